import { describe, expect, it } from "vitest";

import { campaignClientProblems, campaignPayload, EMPTY_CAMPAIGN, schedulePayload, sectionOf } from "./campaignForm";

describe("campaignClientProblems", () => {
  it("refuses quotation marks in the title, as the seed and the API do", () => {
    expect(campaignClientProblems({ ...EMPTY_CAMPAIGN, title: 'The "best" queue' }).title).toMatch(/quotation marks/);
    expect(campaignClientProblems({ ...EMPTY_CAMPAIGN, title: "Sales" })).toEqual({});
  });

  it("requires both times or neither on a special day", () => {
    const values = { ...EMPTY_CAMPAIGN, title: "Sales", exceptions: [{ day: "2026-12-25", opens: "09:00", closes: "", description: "" }] };
    expect(campaignClientProblems(values)["exceptions.0"]).toMatch(/both/);
  });
});

describe("campaignPayload", () => {
  it("nests qualification and sends a blank queue limit as null", () => {
    const payload = campaignPayload({ ...EMPTY_CAMPAIGN, title: " Sales ", qualification_enabled: true, motivation_text: "Why?" });
    expect(payload.title).toBe("Sales");
    expect(payload.max_interactions_in_queue).toBeNull();
    expect(payload.qualification).toEqual({ enabled: true, motivation_text: "Why?", thank_you_message: "" });
  });

  it("sends a special day without times as closed all day", () => {
    const schedule = schedulePayload({ ...EMPTY_CAMPAIGN, exceptions: [{ day: "2026-12-25", opens: "", closes: "", description: "Christmas" }] });
    expect(schedule.exceptions?.[0]).toEqual({ day: "2026-12-25", opens: null, closes: null, description: "Christmas" });
  });
});

describe("sectionOf", () => {
  it("points an API error at the form section holding the field", () => {
    expect(sectionOf("email_server_id")).toBe("Email");
    expect(sectionOf("windows.2.opens")).toBe("Schedules");
    expect(sectionOf("qualification.thank_you_message")).toBe("Qualification");
  });
});
