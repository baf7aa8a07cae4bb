// What the supervision screen's colours and clocks mean, kept apart from the page so it can be tested.
import type { Schemas } from "../../api";

export type AgentStatus = Schemas["SupervisionStatus"];
export type Tone = "good" | "warning" | "bad" | "none";

export const TONE_COLOR: Record<Tone, string> = { good: "teal", warning: "orange", bad: "red", none: "gray" };

/** The seed's five states, as the supervision table names them. */
export const STATUS_LABEL: Record<AgentStatus, string> = {
  disconnected: "Disconnected",
  busy: "Busy",
  free: "Free",
  free_on_break: "Free on break",
  busy_on_break: "Busy on break",
};

export const STATUS_COLOR: Record<AgentStatus, string> = {
  disconnected: "gray",
  busy: "red",
  free: "teal",
  free_on_break: "yellow",
  busy_on_break: "orange",
};

// Within this many points under target the service level is a warning, further below it is bad.
const SERVICE_LEVEL_WARNING_MARGIN = 10;

/** Service level against the target: at or above it good, within 10 points under it a warning, else bad. */
export function serviceLevelTone(percent: number | null | undefined, targetPercent: number): Tone {
  if (percent === null || percent === undefined) return "none";
  if (percent >= targetPercent) return "good";
  if (percent >= targetPercent - SERVICE_LEVEL_WARNING_MARGIN) return "warning";
  return "bad";
}

/** The longest wait against the campaign's thresholds (seconds): from the critical one bad, from the warning one a warning. */
export function waitTone(seconds: number | null | undefined, warningSeconds: number, criticalSeconds: number): Tone {
  if (seconds === null || seconds === undefined) return "none";
  if (seconds >= criticalSeconds) return "bad";
  if (seconds >= warningSeconds) return "warning";
  return "good";
}

export function formatPercent(percent: number | null | undefined): string {
  if (percent === null || percent === undefined) return "—";
  return `${Number.isInteger(percent) ? percent : percent.toFixed(1)} %`;
}

/**
 * Seconds elapsed since `since` at the browser's `now`, measured on the server's clock: the board says what
 * time the server had (`asOf`) when the browser received it (`receivedAt`), so a browser clock that is off
 * by minutes still shows the right waits while the page ticks between refreshes.
 */
export function elapsedSeconds(since: string | null | undefined, asOf: string, receivedAt: number, now: number): number | null {
  if (!since) return null;
  const serverNow = new Date(asOf).getTime() + (now - receivedAt);
  return Math.max(0, Math.floor((serverNow - new Date(since).getTime()) / 1000));
}

/** "2 / 3" interactions held against capacity; an agent in no enabled campaign has no capacity to show. */
export function formatLoad(held: number, capacity: number): string {
  return capacity > 0 ? `${held} / ${capacity}` : `${held}`;
}

/** Counts per status, in the order of the legend, for the summary above the agents table. */
export function statusCounts(agents: { status: AgentStatus }[]): { status: AgentStatus; count: number }[] {
  const order = Object.keys(STATUS_LABEL) as AgentStatus[];
  return order.map((status) => ({ status, count: agents.filter((agent) => agent.status === status).length }));
}
