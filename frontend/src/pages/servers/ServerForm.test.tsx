import { MantineProvider } from "@mantine/core";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { MemoryRouter, Route, Routes } from "react-router-dom";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

// The generated client captures fetch when it is created, so the stub must exist before the imports run.
const fetchStub = vi.hoisted(() => {
  const stub = vi.fn<typeof fetch>();
  globalThis.fetch = stub;
  return stub;
});

import { ServersPage } from "./ServersPage";

function answer(status: number, body: unknown) {
  fetchStub.mockResolvedValueOnce(new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } }));
}

function renderNewServerForm() {
  render(
    <MantineProvider>
      <QueryClientProvider client={new QueryClient({ defaultOptions: { queries: { retry: false } } })}>
        <MemoryRouter initialEntries={["/email-servers/new"]}>
          <Routes>
            <Route path="/email-servers/*" element={<ServersPage />} />
          </Routes>
        </MemoryRouter>
      </QueryClientProvider>
    </MantineProvider>,
  );
}

const field = (name: string) => screen.getByRole("textbox", { name: new RegExp(`^${name}`) });

beforeEach(() => fetchStub.mockReset());
afterEach(cleanup);

describe("the new email server form", () => {
  it("answers the API's required-field rules without sending anything", () => {
    renderNewServerForm();
    fireEvent.click(screen.getByRole("button", { name: "Create" }));
    expect(screen.getByText("The SMTP server address is required.")).toBeDefined();
    expect(field("SMTP server").getAttribute("aria-invalid")).toBe("true");
    expect(fetchStub).not.toHaveBeenCalled();
  });

  it("puts the API's conflict under the name field and sends only SMTP fields", async () => {
    answer(409, { error: { code: "conflict", message: "An email server with this name already exists.", fields: [{ field: "name", message: "An email server with this name already exists." }] } });
    renderNewServerForm();
    fireEvent.change(field("Name"), { target: { value: "Main" } });
    fireEvent.change(field("Sender email"), { target: { value: "desk@example.test" } });
    fireEvent.change(field("SMTP server"), { target: { value: "smtp.example.test" } });
    fireEvent.click(screen.getByRole("button", { name: "Create" }));
    expect((await screen.findAllByText("An email server with this name already exists.")).length).toBeGreaterThan(0);
    expect(field("Name").getAttribute("aria-invalid")).toBe("true");
    const request = fetchStub.mock.calls[0][0] as Request;
    expect(new URL(request.url).pathname).toBe("/api/email-servers");
    const body = await request.json();
    expect(body).toMatchObject({ name: "Main", smtp_host: "smtp.example.test", smtp_port: null });
    expect(body).not.toHaveProperty("sendgrid_api_token");
  });
});
