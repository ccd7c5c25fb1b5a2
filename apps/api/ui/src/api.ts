/** An answer other than 2xx: the API's own message (`{"error": {"message"}}`) when it sent one. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const tokenKey = "beskar-yum-admin-token";

/** The admin token lives in sessionStorage: gone with the tab, never in a cookie or the URL. */
export const adminToken = {
  get: (): string | undefined => sessionStorage.getItem(tokenKey) ?? undefined,
  set: (token: string) => sessionStorage.setItem(tokenKey, token),
  clear: () => sessionStorage.removeItem(tokenKey),
};

function url(path: string, params: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) query.set(key, value);
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

async function failure(response: Response): Promise<ApiError> {
  let message = `HTTP ${response.status}`;
  try {
    const body = (await response.json()) as { error?: { message?: unknown } };
    if (typeof body.error?.message === "string") message = body.error.message;
  } catch {
    // Not the API's JSON: the status says it.
  }
  return new ApiError(message, response.status);
}

/** A GET of JSON; with `token`, sent as the admin API expects it (`Authorization: Bearer`). */
export async function getJson<T>(
  path: string,
  params: Record<string, string | undefined> = {},
  token?: string,
): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const response = await fetch(url(path, params), { headers, cache: "no-store" });
  if (!response.ok) throw await failure(response);
  return (await response.json()) as T;
}

/** A GET of text, or undefined with the status when it is not 200. */
export async function getText(path: string): Promise<{ text?: string; status: number }> {
  const response = await fetch(path, { cache: "no-store" });
  return response.status === 200 ? { text: await response.text(), status: 200 } : { status: response.status };
}

import type { PackageRow, RepositoryOverview, SyncView } from "./wire.js";

export type { PackageRow, RepositoryOverview, SyncView };

export const adminApi = "/artifacts/yum/api/v1";

export interface LogLine {
  level: string;
  date: string;
  message: string;
}
