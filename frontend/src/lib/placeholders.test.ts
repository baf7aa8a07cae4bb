import { describe, expect, it } from "vitest";

import { scanPlaceholders, variablesOf } from "./placeholders";

describe("scanPlaceholders", () => {
  it("lists variables in order of first appearance", () => {
    expect(scanPlaceholders("Hello ${first_name}, case ${reference} for ${first_name}").variables).toEqual(["first_name", "reference"]);
  });

  it("keeps $$ and a lone $ as text", () => {
    expect(scanPlaceholders("$5 off, $${not_a_variable}")).toEqual({ variables: [], problem: null });
  });

  it("reports a malformed placeholder with the API's position and wording", () => {
    expect(scanPlaceholders("Hi ${ name}").problem).toBe(
      "Malformed placeholder at character 4: placeholder “${” must be followed by a variable name.",
    );
    expect(scanPlaceholders("Hi ${name").problem).toMatch(/never closed/);
    expect(scanPlaceholders("Hi ${na-me}").problem).toBe(
      "Malformed placeholder at character 8: a variable name may only contain letters, digits and underscores.",
    );
  });
});

describe("variablesOf", () => {
  it("merges the subject's and bodies' variables without repeats", () => {
    expect(variablesOf("Re: ${subject}", "<p>${name} ${subject}</p>")).toEqual(["subject", "name"]);
  });
});
