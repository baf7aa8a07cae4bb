// The one API client: typed by src/client/schema.d.ts, generated from openapi/openapi.json.
import createClient, { type Middleware } from "openapi-fetch";

import type { components, paths } from "./client/schema";

export type Schemas = components["schemas"];
export type Me = Schemas["Me"];
export type Role = Me["role"];

const TOKEN_KEY = "postdesk.token";

export const tokenStore = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (token: string) => sessionStorage.setItem(TOKEN_KEY, token),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(handler: () => void) {
  onUnauthorized = handler;
}

const auth: Middleware = {
  onRequest({ request }) {
    const token = tokenStore.get();
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
  onResponse({ request, response }) {
    // An expired session anywhere sends the user back to sign-in; a failed sign-in is shown in place.
    if (response.status === 401 && !request.url.endsWith("/api/auth/login")) {
      tokenStore.clear();
      onUnauthorized();
    }
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: window.location.origin });
api.use(auth);
