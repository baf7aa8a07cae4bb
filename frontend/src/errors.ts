// Turns the API's uniform error body into a message and per-field messages for forms.
export interface FieldProblem {
  field: string;
  message: string;
}

export interface ApiErrorBody {
  error: { code: string; message: string; fields?: FieldProblem[] };
}

export interface FormProblems {
  message: string;
  fields: Record<string, string>;
}

export function isApiErrorBody(value: unknown): value is ApiErrorBody {
  if (typeof value !== "object" || value === null || !("error" in value)) return false;
  const error = (value as { error: unknown }).error;
  return typeof error === "object" && error !== null && typeof (error as { message?: unknown }).message === "string";
}

export function describeError(value: unknown): FormProblems {
  if (!isApiErrorBody(value)) {
    return { message: "The server could not be reached. Check your connection and try again.", fields: {} };
  }
  const fields: Record<string, string> = {};
  for (const problem of value.error.fields ?? []) {
    fields[problem.field] ??= problem.message;
  }
  return { message: value.error.message, fields };
}
