import { describe, expect, it } from "vitest";

import { EMPTY_SERVER, serverClientProblems, serverPayload, visibleServerFields } from "./serverForm";

describe("visibleServerFields", () => {
  it("shows the SendGrid token and no SMTP fields for a SendGrid server", () => {
    const fields = visibleServerFields("sendgrid", "none");
    expect(fields).toContain("sendgrid_api_token");
    expect(fields).not.toContain("smtp_host");
    expect(fields).not.toContain("incoming_host");
  });

  it("shows the IMAP folder only for IMAP, and incoming fields only when receiving", () => {
    expect(visibleServerFields("smtp", "imap")).toContain("imap_folder");
    expect(visibleServerFields("smtp", "pop3")).toContain("incoming_host");
    expect(visibleServerFields("smtp", "pop3")).not.toContain("imap_folder");
  });
});

describe("serverClientProblems", () => {
  it("asks for the fields the API requires, with the API's wording", () => {
    const problems = serverClientProblems({ ...EMPTY_SERVER, incoming_protocol: "imap" });
    expect(problems.smtp_host).toBe("The SMTP server address is required.");
    expect(problems.incoming_password).toBe("The IMAP password is required to receive mail.");
  });

  it("accepts a blank secret on edit when the server already stores one", () => {
    const values = { ...EMPTY_SERVER, name: "Main", sender_email: "a@b.test", server_type: "sendgrid" as const };
    expect(serverClientProblems(values).sendgrid_api_token).toBeDefined();
    expect(serverClientProblems(values, { sendgrid_api_token: true, smtp_password: false, incoming_password: false })).toEqual({});
  });

  it("rejects a port outside 1–65535", () => {
    expect(serverClientProblems({ ...EMPTY_SERVER, smtp_port: "70000" }).smtp_port).toMatch(/1 to 65535/);
  });
});

describe("serverPayload", () => {
  it("sends only the chosen type's fields and leaves blank secrets out", () => {
    const payload = serverPayload({
      ...EMPTY_SERVER,
      name: " Main ",
      sender_email: "desk@example.test",
      smtp_host: "smtp.example.test",
      smtp_port: "2525",
      sendgrid_api_token: "not sent for SMTP",
    });
    expect(payload).toMatchObject({ name: "Main", smtp_host: "smtp.example.test", smtp_port: 2525, reply_to: null });
    expect(payload).not.toHaveProperty("sendgrid_api_token");
    expect(payload).not.toHaveProperty("smtp_password");
    expect(payload).not.toHaveProperty("incoming_host");
  });

  it("sends a blank port as null so the API picks the default", () => {
    expect(serverPayload({ ...EMPTY_SERVER, smtp_port: "" }).smtp_port).toBeNull();
  });
});
