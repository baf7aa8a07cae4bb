import { MantineProvider } from "@mantine/core";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

// The generated client captures fetch when it is created, so the stub must exist before the imports run.
const fetchStub = vi.hoisted(() => {
  const stub = vi.fn<typeof fetch>();
  globalThis.fetch = stub;
  return stub;
});

import type { Schemas } from "../../api";
import { REMOTE_IMAGES_BLOCKED } from "../../components/SafeHtmlFrame";
import { MessageHtml } from "./WorkspacePage";

const INTERACTION = "99999999-9999-4999-8999-999999999999";
const LOGO = "11111111-1111-4111-8111-111111111111";
const logo: Schemas["AttachmentPublic"] = { id: LOGO, filename: "logo.png", content_type: "image/png", size_bytes: 3, inline: true, content_id: "logo@shop.example" };
const message: Schemas["MessagePublic"] = {
  id: "88888888-8888-4888-8888-888888888888",
  direction: "inbound",
  kind: "customer",
  status: "received",
  subject: "Invoice",
  from_address: "carla@customer.test",
  from_name: "Carla",
  to: [],
  cc: [],
  bcc: [],
  text_body: "",
  html_body: `<p>Logo <img src="postdesk-attachment:${LOGO}" alt="logo"></p><img alt="pixel">${REMOTE_IMAGES_BLOCKED}`,
  message_id_header: null,
  in_reply_to: null,
  author_id: null,
  sent_at: null,
  created_at: "2026-01-01T00:00:00Z",
  last_error: "",
  attachments: [logo],
};
const withRemote = `<p>Logo <img src="postdesk-attachment:${LOGO}" alt="logo"></p><img src="https://tracker.example/p.gif" alt="pixel">`;

function urlOf(input: RequestInfo | URL): string {
  return input instanceof Request ? input.url : String(input);
}

function frameDocument(): string {
  return screen.getByTitle("Message from carla@customer.test").getAttribute("srcdoc") ?? "";
}

beforeEach(() => {
  fetchStub.mockReset();
  fetchStub.mockImplementation(async (input) => {
    const url = urlOf(input);
    if (url.endsWith(`/attachments/${LOGO}`)) return new Response(new Uint8Array([1, 2, 3]), { status: 200, headers: { "Content-Type": "image/png" } });
    if (url.includes(`/messages/${message.id}/html`)) {
      const body = { message_id: message.id, html: withRemote, has_remote_images: true, remote_images: true };
      return new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/json" } });
    }
    return new Response("{}", { status: 404, headers: { "Content-Type": "application/json" } });
  });
});
afterEach(cleanup);

describe("MessageHtml", () => {
  it("shows inline images as data URIs and remote images only after the agent asks", async () => {
    render(
      <MantineProvider>
        <QueryClientProvider client={new QueryClient({ defaultOptions: { queries: { retry: false } } })}>
          <MessageHtml message={message} interactionId={INTERACTION} attachments={[logo]} />
        </QueryClientProvider>
      </MantineProvider>,
    );
    await waitFor(() => expect(frameDocument()).toContain('src="data:image/png;base64,AQID"'));
    expect(frameDocument()).toContain("img-src data:;");
    expect(frameDocument()).not.toContain("tracker.example");
    expect(fetchStub.mock.calls.map(([input]) => urlOf(input))).toEqual([`/api/interactions/${INTERACTION}/attachments/${LOGO}`]);
    expect(screen.getByText("This message has remote images, blocked to protect your privacy.")).toBeDefined();

    fireEvent.click(screen.getByRole("button", { name: "Show them" }));
    await waitFor(() => expect(frameDocument()).toContain('src="https://tracker.example/p.gif"'));
    expect(frameDocument()).toContain("img-src data: https:;");
    expect(frameDocument()).toContain('src="data:image/png;base64,AQID"');
    expect(screen.queryByRole("button", { name: "Show them" })).toBeNull();
    const htmlRequest = fetchStub.mock.calls.map(([input]) => urlOf(input)).find((url) => url.includes("/html"));
    expect(htmlRequest).toContain(`/api/interactions/${INTERACTION}/messages/${message.id}/html?remote_images=true`);
  });
});
