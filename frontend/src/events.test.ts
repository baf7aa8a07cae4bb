import { describe, expect, it } from "vitest";

import { INVALIDATES, parseEvent } from "./events";

describe("parseEvent", () => {
  it("reads a server event frame", () => {
    expect(parseEvent('{"type":"user.created","data":{"id":"1"}}')).toEqual({ type: "user.created", data: { id: "1" } });
  });

  it("drops frames that are not events", () => {
    expect(parseEvent("not json")).toBeNull();
    expect(parseEvent('{"data":{}}')).toBeNull();
    expect(parseEvent(new ArrayBuffer(2))).toBeNull();
  });
});

describe("INVALIDATES", () => {
  it("refreshes the signed-in user's own record when a user changes", () => {
    expect(INVALIDATES["user.updated"]).toContainEqual(["me"]);
  });
});
