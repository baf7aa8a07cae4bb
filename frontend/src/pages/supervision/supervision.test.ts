import { describe, expect, it } from "vitest";

import { elapsedSeconds, formatLoad, formatPercent, serviceLevelTone, statusCounts, waitTone } from "./supervision";

describe("serviceLevelTone", () => {
  it("is good at or above the target, a warning within ten points below, bad further down", () => {
    expect(serviceLevelTone(80, 80)).toBe("good");
    expect(serviceLevelTone(100, 80)).toBe("good");
    expect(serviceLevelTone(79.9, 80)).toBe("warning");
    expect(serviceLevelTone(70, 80)).toBe("warning");
    expect(serviceLevelTone(69.9, 80)).toBe("bad");
    expect(serviceLevelTone(0, 80)).toBe("bad");
  });

  it("has no tone while nothing is counted", () => {
    expect(serviceLevelTone(null, 80)).toBe("none");
  });
});

describe("waitTone", () => {
  it("compares the longest wait with the campaign's warning and critical thresholds", () => {
    expect(waitTone(119, 120, 300)).toBe("good");
    expect(waitTone(120, 120, 300)).toBe("warning");
    expect(waitTone(299, 120, 300)).toBe("warning");
    expect(waitTone(300, 120, 300)).toBe("bad");
    expect(waitTone(null, 120, 300)).toBe("none");
  });
});

describe("elapsedSeconds", () => {
  const asOf = "2026-03-02T10:00:00Z";
  const receivedAt = Date.parse("2026-03-02T09:50:00Z"); // the browser's clock is ten minutes slow

  it("counts on the server's clock, ticking with the browser's", () => {
    expect(elapsedSeconds("2026-03-02T09:58:00Z", asOf, receivedAt, receivedAt)).toBe(120);
    expect(elapsedSeconds("2026-03-02T09:58:00Z", asOf, receivedAt, receivedAt + 30_500)).toBe(150);
  });

  it("is null without a start and never negative", () => {
    expect(elapsedSeconds(null, asOf, receivedAt, receivedAt)).toBeNull();
    expect(elapsedSeconds("2026-03-02T10:05:00Z", asOf, receivedAt, receivedAt)).toBe(0);
  });
});

describe("formatting", () => {
  it("shows percentages with one decimal only when needed", () => {
    expect(formatPercent(40)).toBe("40 %");
    expect(formatPercent(66.7)).toBe("66.7 %");
    expect(formatPercent(null)).toBe("—");
  });

  it("shows load against capacity", () => {
    expect(formatLoad(1, 3)).toBe("1 / 3");
    expect(formatLoad(2, 0)).toBe("2");
  });

  it("counts agents per status in the legend's order", () => {
    const counts = statusCounts([{ status: "free" }, { status: "busy" }, { status: "free" }]);
    expect(counts.map((c) => [c.status, c.count])).toEqual([
      ["disconnected", 0],
      ["busy", 1],
      ["free", 2],
      ["free_on_break", 0],
      ["busy_on_break", 0],
    ]);
  });
});

describe("live updates", () => {
  it("refresh the supervision boards on every queue, tray and presence change", async () => {
    const { INVALIDATES } = await import("../../events");
    for (const type of ["interaction.created", "interaction.queued", "interaction.assigned", "interaction.put_back", "interaction.moved",
      "interaction.closed", "interaction.message_received", "queue.changed", "agent.presence", "campaign.changed"]) {
      expect(INVALIDATES[type], type).toContainEqual(["supervision"]);
    }
  });
});
