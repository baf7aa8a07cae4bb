import { describe, expect, it } from "vitest";

import { describeError } from "./errors";

describe("describeError", () => {
  it("maps the uniform error body to a message and field messages", () => {
    const problems = describeError({
      error: {
        code: "validation_error",
        message: "Invalid input",
        fields: [
          { field: "email", message: "not a valid email address" },
          { field: "email", message: "second message is ignored" },
          { field: "password", message: "Field required" },
        ],
      },
    });
    expect(problems.message).toBe("Invalid input");
    expect(problems.fields).toEqual({ email: "not a valid email address", password: "Field required" });
  });

  it("explains a network failure when there is no error body", () => {
    expect(describeError(undefined).message).toMatch(/could not be reached/);
    expect(describeError({ detail: "x" }).fields).toEqual({});
  });
});
