import { MantineProvider } from "@mantine/core";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

// The generated client captures fetch when it is created, so the stub must exist before the imports run.
const fetchStub = vi.hoisted(() => {
  const stub = vi.fn<typeof fetch>();
  globalThis.fetch = stub;
  return stub;
});

import { tokenStore } from "../api";
import { LoginPage } from "./LoginPage";

function answer(status: number, body: unknown) {
  fetchStub.mockResolvedValueOnce(
    new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } }),
  );
}

function apiError(code: string, message: string, fields: { field: string; message: string }[] = []) {
  return { error: { code, message, fields } };
}

function renderLoginPage(onSignedIn = () => {}) {
  render(
    <MantineProvider>
      <LoginPage onSignedIn={onSignedIn} />
    </MantineProvider>,
  );
}

function submit(email: string, password: string) {
  fireEvent.change(screen.getByLabelText(/Email/), { target: { value: email } });
  fireEvent.change(screen.getByLabelText(/Password/), { target: { value: password } });
  fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
}

beforeEach(() => {
  fetchStub.mockReset();
  sessionStorage.clear();
});
afterEach(cleanup);

describe("LoginPage", () => {
  it("renders labelled inputs and a submit button", () => {
    renderLoginPage();
    expect(screen.getByLabelText(/Email/)).toBeDefined();
    expect(screen.getByLabelText(/Password/)).toBeDefined();
    expect(screen.getByRole("button", { name: "Sign in" })).toBeDefined();
  });

  it("shows the API's message for wrong credentials", async () => {
    answer(401, apiError("unauthorized", "Incorrect email or password."));
    renderLoginPage();
    submit("admin@example.test", "wrong password");
    expect((await screen.findByRole("alert")).textContent).toContain("Incorrect email or password.");
    expect(tokenStore.get()).toBeNull();
  });

  it("shows the API's throttling message with its wait time", async () => {
    answer(429, apiError("too_many_requests", "Too many login attempts, try again in 42 s."));
    renderLoginPage();
    submit("admin@example.test", "wrong password");
    expect((await screen.findByRole("alert")).textContent).toContain("Too many login attempts, try again in 42 s.");
  });

  it("puts field errors under the field they belong to", async () => {
    answer(422, apiError("validation_error", "Invalid input.", [{ field: "email", message: "Not a valid email." }]));
    renderLoginPage();
    submit("admin@example.test", "secret password");
    expect(await screen.findByText("Not a valid email.")).toBeDefined();
    expect(screen.getByLabelText(/Email/).getAttribute("aria-invalid")).toBe("true");
  });

  it("stores the access token and reports success", async () => {
    answer(200, { access_token: "token-123", token_type: "bearer", expires_in: 3600 });
    const onSignedIn = vi.fn();
    renderLoginPage(onSignedIn);
    submit("admin@example.test", "correct password");
    await vi.waitFor(() => expect(onSignedIn).toHaveBeenCalledOnce());
    expect(tokenStore.get()).toBe("token-123");
    const request = fetchStub.mock.calls[0][0] as Request;
    expect(new URL(request.url).pathname).toBe("/api/auth/login");
    expect(await request.json()).toEqual({ email: "admin@example.test", password: "correct password" });
  });
});
