// Dates and durations as people in a contact centre read them.
export function formatDateTime(value: string | null | undefined): string {
  if (!value) return "—";
  return new Date(value).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function formatDate(value: string | null | undefined): string {
  if (!value) return "—";
  return new Date(value).toLocaleDateString(undefined, { dateStyle: "medium" });
}

/** 45 → "45 s", 180 → "3 min", 3720 → "1 h 2 min". */
export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  const parts = [hours ? `${hours} h` : "", minutes ? `${minutes} min` : "", rest && !hours ? `${rest} s` : ""];
  return parts.filter(Boolean).join(" ");
}

/** Time waited since `since`, for tray rows: "just now", "4 min", "2 h 5 min", "3 d". */
export function formatWaiting(since: string, now: number = Date.now()): string {
  const seconds = Math.max(0, Math.floor((now - new Date(since).getTime()) / 1000));
  if (seconds < 60) return "just now";
  if (seconds >= 86_400) return `${Math.floor(seconds / 86_400)} d`;
  return formatSeconds(seconds - (seconds % 60));
}
