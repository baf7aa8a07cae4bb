import { describe, expect, it } from "vitest";

import { navigationFor } from "./navigation";

describe("navigationFor", () => {
  it("gives agents only the workspace", () => {
    expect(navigationFor("agent").map((item) => item.label)).toEqual(["Workspace"]);
  });

  it("gives supervisors supervision and the workspace, not administration", () => {
    const labels = navigationFor("supervisor").map((item) => item.label);
    expect(labels).toEqual(["Workspace", "Supervision"]);
  });

  it("gives admins every administration screen", () => {
    const labels = navigationFor("admin").map((item) => item.label);
    expect(labels).toContain("Email servers");
    expect(labels).toContain("Campaigns");
    expect(labels).toContain("Users & teams");
  });
});
