import { describe, expect, it } from "vitest";

import { addressesNeedingConfirmation, confirmationMessage, splitAddresses } from "./addresses";

describe("splitAddresses", () => {
  it("splits on commas and semicolons but not inside quoted names or angle brackets", () => {
    expect(splitAddresses('"Doe, Jane" <jane@example.test>; bob@example.test, ')).toEqual([
      '"Doe, Jane" <jane@example.test>',
      "bob@example.test",
    ]);
  });
});

describe("addressesNeedingConfirmation", () => {
  it("flags addresses without @ and space-separated lists, as the seed describes", () => {
    expect(addressesNeedingConfirmation("abc.mailserver.com; ok@example.test", "a@example.test b@example.test")).toEqual([
      "abc.mailserver.com",
      "a@example.test b@example.test",
    ]);
  });

  it("accepts display-name forms", () => {
    expect(addressesNeedingConfirmation('"Jane" <jane@example.test>')).toEqual([]);
  });
});

describe("confirmationMessage", () => {
  it("uses the seed's wording", () => {
    expect(confirmationMessage("abc@mailserver")).toBe(
      "The input email address 'abc@mailserver' appears to be invalid. Please confirm that you do want to use this email address, by pressing OK, or press Cancel and go back and correct it.",
    );
  });
});
