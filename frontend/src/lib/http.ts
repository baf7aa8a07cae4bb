// Unwraps openapi-fetch results so TanStack Query sees API errors as thrown error bodies.
import { isApiErrorBody } from "../errors";

interface FetchResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The response body, or throws the API's uniform error body (or a synthetic one for bodiless failures). */
export async function must<T>(request: Promise<FetchResult<T>>): Promise<T> {
  const { data, error, response } = await request;
  if (!response.ok) {
    if (isApiErrorBody(error)) throw error;
    throw { error: { code: `http_${response.status}`, message: `The server answered ${response.status}.`, fields: [] } };
  }
  return data as T;
}

/** Extra members the API adds to an error body, e.g. `dependents` on a 409. */
export function errorExtra<T>(error: unknown, key: string): T | undefined {
  if (!isApiErrorBody(error)) return undefined;
  return (error.error as unknown as Record<string, unknown>)[key] as T | undefined;
}

/** Drops null/undefined/"" so optional query parameters are left out of the URL. */
export function definedParams<T extends Record<string, unknown>>(params: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [key, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") out[key as keyof T] = value as T[keyof T];
  }
  return out;
}
