import type { AdminClient } from "./admin-client.js";

/**
 * Every item of a paged list endpoint (Beskar's `page: {size, token}`): asks for the next page with
 * the previous response's `next_page_token` until a response has none.
 */
export async function* allPages<T>(
  client: AdminClient,
  path: string,
  request: Record<string, unknown>,
  key: string,
): AsyncGenerator<T> {
  let token: string | undefined;
  do {
    const response = await client.call<Record<string, unknown>>("GET", path, {
      ...request,
      ...(token ? { "page.token": token } : {}),
    });
    for (const item of (response[key] as T[] | null | undefined) ?? []) yield item;
    token = nextToken(response, token);
  } while (token);
}

/** The response's `next_page_token` when it leads somewhere new, else undefined (the last page). */
export function nextToken(
  response: Record<string, unknown>,
  previous: string | undefined,
): string | undefined {
  const next = response.next_page_token;
  return typeof next === "string" && next !== "" && next !== previous ? next : undefined;
}
