import { MantineProvider } from "@mantine/core";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

// The generated client captures fetch when it is created, so the stub must exist before the imports run.
const fetchStub = vi.hoisted(() => {
  const stub = vi.fn<typeof fetch>();
  globalThis.fetch = stub;
  return stub;
});

// jsdom has no document.fonts, which Mantine's autosize Textarea listens to.
if (!("fonts" in document)) {
  Object.defineProperty(document, "fonts", { value: { addEventListener: () => {}, removeEventListener: () => {} } });
}

import type { Schemas } from "../../api";
import { NewEmailModal } from "./WorkspacePage";

const billing: Schemas["WorkspaceCampaign"] = {
  id: "11111111-1111-4111-8111-111111111111",
  title: "Billing",
  enabled: true,
  allow_free_format: false,
  require_address_confirmation: false,
  allow_drafts: true,
  allow_put_back: true,
  allow_move: true,
  templates: [{ id: "22222222-2222-4222-8222-222222222222", name: "Invoice copy", kind: "reply", subject: "Your invoice" }],
  signature: { template_id: "33333333-3333-4333-8333-333333333333", name: "Sig", html_body: "<p>Ann, Billing</p>", text_body: "Ann, Billing team" },
};
const archived: Schemas["WorkspaceCampaign"] = { ...billing, id: "44444444-4444-4444-8444-444444444444", title: "Archived", enabled: false };

function renderModal() {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <MantineProvider>
      <QueryClientProvider client={queryClient}>
        <NewEmailModal onClose={() => {}} onSent={() => {}} />
      </QueryClientProvider>
    </MantineProvider>,
  );
}

beforeEach(() => {
  fetchStub.mockReset();
  fetchStub.mockImplementation(async (input) => {
    const url = input instanceof Request ? input.url : String(input);
    const body = url.includes("/api/agents/me/campaigns") ? [billing, archived] : {};
    return new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/json" } });
  });
});
afterEach(cleanup);

describe("NewEmailModal", () => {
  it("offers the caller's enabled campaigns, then that campaign's templates and signature", async () => {
    renderModal();
    const dialog = await screen.findByRole("dialog");
    const template = within(dialog).getByLabelText(/^Template/);
    expect(template).toHaveProperty("disabled", true);

    await waitFor(() => expect(fetchStub).toHaveBeenCalled());
    fireEvent.click(within(dialog).getByLabelText(/^Campaign/));
    const billingOption = await screen.findByRole("option", { name: "Billing", hidden: true });
    expect(screen.queryByRole("option", { name: "Archived", hidden: true })).toBeNull();
    fireEvent.click(billingOption);

    expect(within(dialog).getByText("This campaign allows template-based emails only.")).toBeDefined();
    expect(within(dialog).getByLabelText("Signature preview").textContent).toContain("Ann, Billing team");
    fireEvent.click(within(dialog).getByLabelText(/^Template/));
    expect(await screen.findByRole("option", { name: "Invoice copy — Your invoice", hidden: true })).toBeDefined();
  });
});
