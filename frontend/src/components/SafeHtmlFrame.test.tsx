import { MantineProvider } from "@mantine/core";
import { cleanup, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";

import { frameDocument, hasBlockedRemoteImages, REMOTE_IMAGES_BLOCKED, SafeHtmlFrame } from "./SafeHtmlFrame";

afterEach(cleanup);

function contentSecurityPolicy(document: string): string {
  const parsed = new DOMParser().parseFromString(document, "text/html");
  return parsed.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute("content") ?? "";
}

describe("SafeHtmlFrame", () => {
  it("renders an iframe sandboxed without any permission", () => {
    render(
      <MantineProvider>
        <SafeHtmlFrame html="<p>Hello</p>" title="Customer message" />
      </MantineProvider>,
    );
    const frame = screen.getByTitle("Customer message");
    expect(frame.getAttribute("sandbox")).toBe("");
    expect(frame.getAttribute("referrerpolicy")).toBe("no-referrer");
    expect(frame.getAttribute("srcdoc")).toContain("<p>Hello</p>");
    expect(contentSecurityPolicy(frame.getAttribute("srcdoc") ?? "")).toContain("img-src data:;");
  });

  it("lets https images in only when asked", () => {
    render(
      <MantineProvider>
        <SafeHtmlFrame html="<p>Hello</p>" title="Customer message" allowRemoteImages />
      </MantineProvider>,
    );
    expect(contentSecurityPolicy(screen.getByTitle("Customer message").getAttribute("srcdoc") ?? "")).toContain("img-src data: https:;");
  });
});

describe("frameDocument", () => {
  it("blocks scripts, frames and every remote load until remote images are asked for", () => {
    const blocked = contentSecurityPolicy(frameDocument("<img src='https://tracker.example/p.gif'>", false));
    expect(blocked).toContain("default-src 'none'");
    expect(blocked).toContain("img-src data:;");
    expect(blocked).not.toMatch(/script-src|https:|http:|cid:|\*/);
  });

  it("widens img-src to https only, never scripts or plain http", () => {
    const allowed = contentSecurityPolicy(frameDocument("", true));
    expect(allowed).toContain("default-src 'none'");
    expect(allowed).toContain("img-src data: https:;");
    expect(allowed).not.toMatch(/script-src|http:|\*/);
  });

  it("sends no referrer with the images it loads", () => {
    expect(frameDocument("", true)).toContain('<meta name="referrer" content="no-referrer">');
  });
});

describe("hasBlockedRemoteImages", () => {
  it("trusts only the API's marker at the very end", () => {
    expect(hasBlockedRemoteImages(`<p>Hi <img alt="x"></p>${REMOTE_IMAGES_BLOCKED}`)).toBe(true);
    expect(hasBlockedRemoteImages('<img src="https://example.test/a.png">')).toBe(false);
    expect(hasBlockedRemoteImages(`<p>${REMOTE_IMAGES_BLOCKED}</p>`)).toBe(false);
  });
});
