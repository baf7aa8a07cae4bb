// The campaign form's values, sections and payloads (campaign fields plus its weekly schedule).
import type { Schemas } from "../../api";

export type Campaign = Schemas["CampaignPublic"];
export type RoutingStrategy = Schemas["RoutingStrategy"];
export type Weekday = Schemas["Weekday"];

export interface WindowValues {
  weekday: Weekday;
  opens: string; // "HH:MM"
  closes: string;
}

export interface SpecialDayValues {
  day: string; // "YYYY-MM-DD"
  opens: string; // "" = closed all day
  closes: string;
  description: string;
}

export interface CampaignFormValues {
  title: string;
  description: string;
  group_id: string | null;
  enabled: boolean;
  receive_emails: boolean;
  email_server_id: string | null;
  from_name: string;
  service_level_seconds: number | string;
  warning_threshold_seconds: number | string;
  critical_threshold_seconds: number | string;
  strategy: RoutingStrategy;
  max_interactions_per_agent: number | string;
  max_interactions_in_queue: number | string;
  team_ids: string[];
  schedule_timezone: string;
  windows: WindowValues[];
  exceptions: SpecialDayValues[];
  auto_reply_template_id: string | null;
  signature_template_id: string | null;
  qualification_enabled: boolean;
  motivation_text: string;
  thank_you_message: string;
  allow_free_format: boolean;
  require_address_confirmation: boolean;
  allow_put_back: boolean;
  allow_move: boolean;
  allow_drafts: boolean;
}

// The API's defaults (CampaignCreate), so a new form shows what will be stored.
export const EMPTY_CAMPAIGN: CampaignFormValues = {
  title: "",
  description: "",
  group_id: null,
  enabled: true,
  receive_emails: true,
  email_server_id: null,
  from_name: "",
  service_level_seconds: 180,
  warning_threshold_seconds: 120,
  critical_threshold_seconds: 300,
  strategy: "ringall",
  max_interactions_per_agent: 1,
  max_interactions_in_queue: "",
  team_ids: [],
  schedule_timezone: "UTC",
  windows: [],
  exceptions: [],
  auto_reply_template_id: null,
  signature_template_id: null,
  qualification_enabled: false,
  motivation_text: "",
  thank_you_message: "",
  allow_free_format: true,
  require_address_confirmation: false,
  allow_put_back: true,
  allow_move: true,
  allow_drafts: true,
};

export const STRATEGIES: { value: RoutingStrategy; label: string }[] = [
  { value: "ringall", label: "Offer to all agents" },
  { value: "leastrecent", label: "Least recently served agent" },
  { value: "fewestcalls", label: "Agent with fewest interactions" },
  { value: "random", label: "Random agent" },
  { value: "rrmemory", label: "Round robin (remembers position)" },
  { value: "linear", label: "Linear (members' order)" },
  { value: "wrandom", label: "Weighted random" },
];

export const WEEKDAYS: Weekday[] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

/** Which form section holds a field, so a section with an API error can be pointed at. */
export const SECTIONS: Record<string, string[]> = {
  General: ["title", "description", "group_id", "enabled"],
  Email: ["receive_emails", "email_server_id", "from_name"],
  "Service & routing": [
    "service_level_seconds",
    "warning_threshold_seconds",
    "critical_threshold_seconds",
    "strategy",
    "max_interactions_per_agent",
    "max_interactions_in_queue",
    "team_ids",
  ],
  Schedules: ["schedule_timezone", "timezone", "windows", "exceptions"],
  Automation: ["auto_reply_template_id", "signature_template_id"],
  Qualification: ["qualification", "qualification.enabled", "qualification.motivation_text", "qualification.thank_you_message"],
  Flags: ["allow_free_format", "require_address_confirmation", "allow_put_back", "allow_move", "allow_drafts"],
};

export function sectionOf(field: string): string | null {
  for (const [section, fields] of Object.entries(SECTIONS)) {
    if (fields.some((name) => field === name || field.startsWith(`${name}.`))) return section;
  }
  return null;
}

const QUOTES = /["'“”‘’`]/;

/** Checks the API also makes, answered before a round trip (the API's wording where it has one). */
export function campaignClientProblems(values: CampaignFormValues): Record<string, string> {
  const problems: Record<string, string> = {};
  if (!values.title.trim()) problems.title = "A campaign title is required.";
  else if (QUOTES.test(values.title)) problems.title = "A campaign title cannot contain quotation marks.";
  for (const field of ["service_level_seconds", "warning_threshold_seconds", "critical_threshold_seconds"] as const) {
    if (values[field] === "" || Number(values[field]) < 1) problems[field] = "Enter a number of seconds (at least 1).";
  }
  if (values.max_interactions_per_agent === "" || Number(values.max_interactions_per_agent) < 1) {
    problems.max_interactions_per_agent = "Enter at least 1.";
  }
  values.windows.forEach((window, index) => {
    if (!window.opens || !window.closes) problems[`windows.${index}`] = "Give the opening and closing time.";
  });
  values.exceptions.forEach((day, index) => {
    if (!day.day) problems[`exceptions.${index}.day`] = "Choose a date.";
    if (Boolean(day.opens) !== Boolean(day.closes)) {
      problems[`exceptions.${index}`] = "Give both opening and closing time, or neither for a day closed all day.";
    }
  });
  return problems;
}

const intOrNull = (value: number | string): number | null => (value === "" ? null : Number(value));

export function campaignPayload(values: CampaignFormValues): Schemas["CampaignCreate"] {
  return {
    title: values.title.trim(),
    description: values.description,
    group_id: values.group_id,
    enabled: values.enabled,
    receive_emails: values.receive_emails,
    email_server_id: values.email_server_id,
    from_name: values.from_name.trim(),
    service_level_seconds: Number(values.service_level_seconds),
    warning_threshold_seconds: Number(values.warning_threshold_seconds),
    critical_threshold_seconds: Number(values.critical_threshold_seconds),
    strategy: values.strategy,
    max_interactions_per_agent: Number(values.max_interactions_per_agent),
    max_interactions_in_queue: intOrNull(values.max_interactions_in_queue),
    team_ids: values.team_ids,
    schedule_timezone: values.schedule_timezone.trim(),
    auto_reply_template_id: values.auto_reply_template_id,
    signature_template_id: values.signature_template_id,
    qualification: {
      enabled: values.qualification_enabled,
      motivation_text: values.motivation_text,
      thank_you_message: values.thank_you_message,
    },
    allow_free_format: values.allow_free_format,
    require_address_confirmation: values.require_address_confirmation,
    allow_put_back: values.allow_put_back,
    allow_move: values.allow_move,
    allow_drafts: values.allow_drafts,
  };
}

export function schedulePayload(values: CampaignFormValues): Schemas["ScheduleIn"] {
  return {
    timezone: values.schedule_timezone.trim(),
    windows: values.windows.map((window) => ({ weekday: window.weekday, opens: window.opens, closes: window.closes })),
    exceptions: values.exceptions.map((day) => ({
      day: day.day,
      opens: day.opens || null,
      closes: day.closes || null,
      description: day.description,
    })),
  };
}

const hhmm = (value: string | null | undefined) => (value ? value.slice(0, 5) : "");

export function campaignFormValues(campaign: Campaign, schedule?: Schemas["SchedulePublic"]): CampaignFormValues {
  return {
    title: campaign.title,
    description: campaign.description,
    group_id: campaign.group_id,
    enabled: campaign.enabled,
    receive_emails: campaign.receive_emails,
    email_server_id: campaign.email_server_id,
    from_name: campaign.from_name,
    service_level_seconds: campaign.service_level_seconds,
    warning_threshold_seconds: campaign.warning_threshold_seconds,
    critical_threshold_seconds: campaign.critical_threshold_seconds,
    strategy: campaign.strategy,
    max_interactions_per_agent: campaign.max_interactions_per_agent,
    max_interactions_in_queue: campaign.max_interactions_in_queue ?? "",
    team_ids: campaign.team_ids,
    schedule_timezone: schedule?.timezone ?? campaign.schedule_timezone,
    windows: (schedule?.windows ?? []).map((window) => ({ weekday: window.weekday, opens: hhmm(window.opens), closes: hhmm(window.closes) })),
    exceptions: (schedule?.exceptions ?? []).map((day) => ({
      day: day.day,
      opens: hhmm(day.opens),
      closes: hhmm(day.closes),
      description: day.description ?? "",
    })),
    auto_reply_template_id: campaign.auto_reply_template_id,
    signature_template_id: campaign.signature_template_id,
    qualification_enabled: campaign.qualification.enabled ?? false,
    motivation_text: campaign.qualification.motivation_text ?? "",
    thank_you_message: campaign.qualification.thank_you_message ?? "",
    allow_free_format: campaign.allow_free_format,
    require_address_confirmation: campaign.require_address_confirmation,
    allow_put_back: campaign.allow_put_back,
    allow_move: campaign.allow_move,
    allow_drafts: campaign.allow_drafts,
  };
}
