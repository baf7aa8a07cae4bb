// The email server form's rules: which fields the chosen type and protocol need, and the payload sent.
import type { Schemas } from "../../api";
import { blankToNull, parseOptionalInt } from "../../lib/forms";

export type ServerType = Schemas["ServerType"];
export type IncomingProtocol = Schemas["IncomingProtocol"];
export type Security = Schemas["Security"];
export type AfterFetch = Schemas["AfterFetch"];
export type EmailServer = Schemas["EmailServerPublic"];

export interface ServerFormValues {
  name: string;
  server_type: ServerType;
  is_default: boolean;
  sender_email: string;
  sender_name: string;
  reply_to: string;
  sendgrid_api_token: string;
  smtp_host: string;
  smtp_port: string;
  smtp_username: string;
  smtp_password: string;
  smtp_security: Security;
  incoming_protocol: IncomingProtocol;
  incoming_host: string;
  incoming_port: string;
  incoming_username: string;
  incoming_password: string;
  incoming_security: Security;
  imap_folder: string;
  after_fetch: AfterFetch;
}

export const EMPTY_SERVER: ServerFormValues = {
  name: "",
  server_type: "smtp",
  is_default: false,
  sender_email: "",
  sender_name: "",
  reply_to: "",
  sendgrid_api_token: "",
  smtp_host: "",
  smtp_port: "",
  smtp_username: "",
  smtp_password: "",
  smtp_security: "starttls",
  incoming_protocol: "none",
  incoming_host: "",
  incoming_port: "",
  incoming_username: "",
  incoming_password: "",
  incoming_security: "tls",
  imap_folder: "INBOX",
  after_fetch: "mark_seen",
};

// The same defaults the API applies when a port is left blank.
const SMTP_PORTS: Record<Security, number> = { none: 25, starttls: 587, tls: 465 };
const INCOMING_PORTS: Record<"imap" | "pop3", Record<Security, number>> = {
  imap: { none: 143, starttls: 143, tls: 993 },
  pop3: { none: 110, starttls: 110, tls: 995 },
};

export function defaultSmtpPort(security: Security): number {
  return SMTP_PORTS[security];
}

export function defaultIncomingPort(protocol: IncomingProtocol, security: Security): number | null {
  return protocol === "none" ? null : INCOMING_PORTS[protocol][security];
}

const COMMON_FIELDS = ["name", "server_type", "is_default", "sender_email", "sender_name", "reply_to", "incoming_protocol"] as const;

/** The fields the form shows (and sends) for this type and incoming protocol, as the seed describes. */
export function visibleServerFields(type: ServerType, protocol: IncomingProtocol): (keyof ServerFormValues)[] {
  const fields: (keyof ServerFormValues)[] = [...COMMON_FIELDS];
  if (type === "sendgrid") fields.push("sendgrid_api_token");
  else fields.push("smtp_host", "smtp_port", "smtp_username", "smtp_password", "smtp_security");
  if (protocol !== "none") {
    fields.push("incoming_host", "incoming_port", "incoming_username", "incoming_password", "incoming_security", "after_fetch");
    if (protocol === "imap") fields.push("imap_folder");
  }
  return fields;
}

/** Which secrets the server already stores: a blank secret on edit keeps it. */
export interface StoredSecrets {
  sendgrid_api_token: boolean;
  smtp_password: boolean;
  incoming_password: boolean;
}

export const NO_STORED_SECRETS: StoredSecrets = { sendgrid_api_token: false, smtp_password: false, incoming_password: false };

export function storedSecrets(server: EmailServer): StoredSecrets {
  return {
    sendgrid_api_token: server.has_sendgrid_api_token,
    smtp_password: server.has_smtp_password,
    incoming_password: server.has_incoming_password,
  };
}

/** The API's required-field rules (servers/service.py problems_of), checked before sending. */
export function serverClientProblems(values: ServerFormValues, stored: StoredSecrets = NO_STORED_SECRETS): Record<string, string> {
  const problems: Record<string, string> = {};
  if (!values.name.trim()) problems.name = "A name is required.";
  if (!values.sender_email.trim()) problems.sender_email = "The sender email is required.";
  if (values.server_type === "sendgrid") {
    if (!values.sendgrid_api_token && !stored.sendgrid_api_token) {
      problems.sendgrid_api_token = "An API token is required for a SendGrid server.";
    }
  } else {
    if (!values.smtp_host.trim()) problems.smtp_host = "The SMTP server address is required.";
    const hasPassword = Boolean(values.smtp_password) || stored.smtp_password;
    if (values.smtp_username.trim() && !hasPassword) problems.smtp_password = "A password is required with an SMTP user name.";
    if (values.smtp_password && !values.smtp_username.trim()) problems.smtp_username = "A user name is required with an SMTP password.";
    const port = checkPort(values.smtp_port);
    if (port) problems.smtp_port = port;
  }
  if (values.incoming_protocol !== "none") {
    const label = values.incoming_protocol.toUpperCase();
    if (!values.incoming_host.trim()) problems.incoming_host = `The ${label} server address is required to receive mail.`;
    if (!values.incoming_username.trim()) problems.incoming_username = `The ${label} user name is required to receive mail.`;
    if (!values.incoming_password && !stored.incoming_password) {
      problems.incoming_password = `The ${label} password is required to receive mail.`;
    }
    const port = checkPort(values.incoming_port);
    if (port) problems.incoming_port = port;
  }
  return problems;
}

function checkPort(value: string): string | null {
  if (value.trim() === "") return null;
  const port = Number(value);
  return Number.isInteger(port) && port >= 1 && port <= 65535 ? null : "A port is a whole number from 1 to 65535.";
}

/**
 * The request body: only the visible fields; blank optional text becomes null; blank secrets are
 * left out (on edit that keeps the stored secret, on create it means "none").
 */
export function serverPayload(values: ServerFormValues): Schemas["EmailServerCreate"] {
  const visible = new Set(visibleServerFields(values.server_type, values.incoming_protocol));
  const payload: Record<string, unknown> = {
    name: values.name.trim(),
    server_type: values.server_type,
    is_default: values.is_default,
    sender_email: values.sender_email.trim(),
    sender_name: values.sender_name.trim(),
    reply_to: blankToNull(values.reply_to),
    incoming_protocol: values.incoming_protocol,
  };
  const text = ["smtp_host", "smtp_username", "incoming_host", "incoming_username"] as const;
  for (const field of text) if (visible.has(field)) payload[field] = blankToNull(values[field]);
  for (const field of ["smtp_port", "incoming_port"] as const) if (visible.has(field)) payload[field] = parseOptionalInt(values[field]);
  for (const field of ["sendgrid_api_token", "smtp_password", "incoming_password"] as const) {
    if (visible.has(field) && values[field] !== "") payload[field] = values[field];
  }
  for (const field of ["smtp_security", "incoming_security", "after_fetch", "imap_folder"] as const) {
    if (visible.has(field)) payload[field] = field === "imap_folder" ? values.imap_folder.trim() : values[field];
  }
  return payload as Schemas["EmailServerCreate"];
}

export function serverFormValues(server: EmailServer): ServerFormValues {
  return {
    name: server.name,
    server_type: server.server_type,
    is_default: server.is_default,
    sender_email: server.sender_email,
    sender_name: server.sender_name,
    reply_to: server.reply_to ?? "",
    sendgrid_api_token: "",
    smtp_host: server.smtp_host ?? "",
    smtp_port: server.smtp_port?.toString() ?? "",
    smtp_username: server.smtp_username ?? "",
    smtp_password: "",
    smtp_security: server.smtp_security,
    incoming_protocol: server.incoming_protocol,
    incoming_host: server.incoming_host ?? "",
    incoming_port: server.incoming_port?.toString() ?? "",
    incoming_username: server.incoming_username ?? "",
    incoming_password: "",
    incoming_security: server.incoming_security,
    imap_folder: server.imap_folder,
    after_fetch: server.after_fetch,
  };
}
