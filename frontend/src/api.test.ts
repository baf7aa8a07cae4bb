import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

// The generated client captures fetch when it is created, so the stub must exist before the imports run.
const fetchStub = vi.hoisted(() => {
  const stub = vi.fn<typeof fetch>();
  globalThis.fetch = stub;
  return stub;
});

import { api, setUnauthorizedHandler, tokenStore } from "./api";

function answer(status: number, body: unknown) {
  fetchStub.mockResolvedValueOnce(
    new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } }),
  );
}

const unauthorized = { error: { code: "unauthorized", message: "Not signed in.", fields: [] } };

beforeEach(() => {
  fetchStub.mockReset();
  sessionStorage.clear();
});
afterEach(() => setUnauthorizedHandler(() => {}));

describe("api client", () => {
  it("sends the stored access token as a bearer token", async () => {
    tokenStore.set("token-123");
    answer(200, {});
    await api.GET("/api/auth/me");
    const request = fetchStub.mock.calls[0][0] as Request;
    expect(request.headers.get("Authorization")).toBe("Bearer token-123");
  });

  it("sends no Authorization header when signed out", async () => {
    answer(200, {});
    await api.GET("/api/auth/me");
    expect((fetchStub.mock.calls[0][0] as Request).headers.has("Authorization")).toBe(false);
  });

  it("forgets the token and goes back to sign-in on a 401 from any call", async () => {
    tokenStore.set("expired");
    const backToSignIn = vi.fn();
    setUnauthorizedHandler(backToSignIn);
    answer(401, unauthorized);
    await api.GET("/api/auth/me");
    expect(backToSignIn).toHaveBeenCalledOnce();
    expect(tokenStore.get()).toBeNull();
  });

  it("leaves a failed sign-in to the login form", async () => {
    const backToSignIn = vi.fn();
    setUnauthorizedHandler(backToSignIn);
    answer(401, unauthorized);
    const { error } = await api.POST("/api/auth/login", { body: { email: "a@example.test", password: "x" } });
    expect(error).toEqual(unauthorized);
    expect(backToSignIn).not.toHaveBeenCalled();
  });
});
