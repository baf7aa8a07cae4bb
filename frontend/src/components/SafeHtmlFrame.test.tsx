import { MantineProvider } from "@mantine/core";
import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";

import { frameDocument, hasRemoteImages, SafeHtmlFrame } from "./SafeHtmlFrame";

afterEach(cleanup);

describe("SafeHtmlFrame", () => {
  it("renders an iframe sandboxed without any permission", () => {
    render(
      <MantineProvider>
        <SafeHtmlFrame html="<p>Hello</p>" title="Customer message" />
      </MantineProvider>,
    );
    const frame = screen.getByTitle("Customer message");
    expect(frame.getAttribute("sandbox")).toBe("");
    expect(frame.getAttribute("srcdoc")).toContain("<p>Hello</p>");
  });
});

describe("frameDocument", () => {
  it("blocks scripts always and remote images until asked", () => {
    const blocked = frameDocument("<img src='https://tracker.example/p.gif'>", false);
    expect(blocked).toContain("default-src 'none'");
    expect(blocked).toContain("img-src data: cid:;");
    expect(blocked).not.toContain("script-src");
    expect(frameDocument("", true)).toContain("img-src data: cid: https: http:");
  });
});

describe("hasRemoteImages", () => {
  it("finds remote images in tags and styles but not inline data images", () => {
    expect(hasRemoteImages('<img alt="x" src="https://example.test/a.png">')).toBe(true);
    expect(hasRemoteImages('<div style="background:url(http://example.test/b.png)">')).toBe(true);
    expect(hasRemoteImages('<img src="data:image/png;base64,AAAA">')).toBe(false);
  });
});
