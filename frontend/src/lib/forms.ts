// Form state and the mapping between API field paths and inputs.
import { useCallback, useState } from "react";

import { describeError, type FormProblems } from "../errors";

export function useFormValues<T extends object>(initial: T) {
  const [values, setValues] = useState<T>(initial);
  const set = useCallback(<K extends keyof T>(key: K, value: T[K]) => {
    setValues((current) => ({ ...current, [key]: value }));
  }, []);
  return { values, set, setValues };
}

/** Problems to show: the client's own checks first (they stop the request), then the API's answer. */
export function formProblems(clientProblems: Record<string, string> | null, apiError: unknown): FormProblems | null {
  if (clientProblems && Object.keys(clientProblems).length > 0) {
    return { message: "Please correct the highlighted fields.", fields: clientProblems };
  }
  if (apiError) return describeError(apiError);
  return null;
}

/** Field messages whose path starts with `prefix.` (e.g. "contacts.0.email" under "contacts"), re-keyed without it. */
export function nestedProblems(problems: FormProblems | null, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [field, message] of Object.entries(problems?.fields ?? {})) {
    if (field.startsWith(`${prefix}.`)) out[field.slice(prefix.length + 1)] = message;
  }
  return out;
}

/** Fields the form does not show still deserve to be seen: they are listed in the summary. */
export function unshownProblems(problems: FormProblems | null, shown: readonly string[]): string[] {
  return Object.entries(problems?.fields ?? {})
    .filter(([field]) => !shown.includes(field))
    .map(([field, message]) => `${field}: ${message}`);
}

export function blankToNull(value: string): string | null {
  const trimmed = value.trim();
  return trimmed === "" ? null : trimmed;
}

/** "" → null, "12" → 12; anything else stays a string so the API's number error reaches the field. */
export function parseOptionalInt(value: string | number | null | undefined): number | null {
  if (value === null || value === undefined || value === "") return null;
  return typeof value === "number" ? value : Number.parseInt(value, 10);
}
