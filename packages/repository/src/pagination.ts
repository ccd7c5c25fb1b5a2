import { YumError } from "@beskar-yum/errors";

/**
 * Beskar's `page: {size, token}` (its Go `Page` struct has no JSON tags, so `Size`/`Token` are
 * accepted too, any case) on every list endpoint. A page holds at most `size` items (default and
 * maximum per list); the response carries `next_page_token` (opaque) while more items follow, and
 * leaves it out on the last page. Tokens name where the next page starts (keyset: the last item
 * sent), so a page costs its own rows wherever it starts, and items added or removed meanwhile
 * never make a page repeat or skip the others.
 */
export interface PageRequest {
  size: number;
  token?: string;
}

export interface PageLimits {
  defaultSize: number;
  maxSize: number;
}

export type ListKind = "packages" | "logs" | "repositories";

export const pageLimits: Record<ListKind, PageLimits> = {
  packages: { defaultSize: 1000, maxSize: 10_000 },
  logs: { defaultSize: 1000, maxSize: 10_000 },
  repositories: { defaultSize: 1000, maxSize: 10_000 },
};

/** Case-insensitive field of a JSON object (Go's encoding/json matches keys so). */
function field(object: Record<string, unknown>, name: string): unknown {
  for (const [key, value] of Object.entries(object)) if (key.toLowerCase() === name) return value;
  return undefined;
}

/**
 * The page a request asks for: `page` as an object (JSON body, or `?page={"size":10}`), or the
 * query string's `page.size`/`page.token` (also `page_size`/`page_token`). A size above the
 * maximum is lowered to it; 0 or none means the default.
 */
export function readPage(fields: Record<string, unknown>, kind: ListKind): PageRequest {
  const limits = pageLimits[kind];
  const rawPage = field(fields, "page");
  // `?page=` (empty) is no page.
  const page = rawPage === "" ? undefined : rawPage;
  if (page !== undefined && page !== null && (typeof page !== "object" || Array.isArray(page)))
    throw new YumError("INVALID_ARGUMENT", "page: expected an object {size, token}");
  const given = (page ?? {}) as Record<string, unknown>;
  const rawSize = field(given, "size") ?? fields["page.size"] ?? fields.page_size;
  const rawToken = field(given, "token") ?? fields["page.token"] ?? fields.page_token;
  const size = typeof rawSize === "string" && /^\d+$/.test(rawSize) ? Number(rawSize) : rawSize;
  if (
    size !== undefined &&
    size !== null &&
    (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0)
  )
    throw new YumError(
      "INVALID_ARGUMENT",
      `page.size: expected a non-negative integer, got ${JSON.stringify(rawSize)}`,
    );
  if (rawToken !== undefined && rawToken !== null && typeof rawToken !== "string")
    throw new YumError("INVALID_ARGUMENT", "page.token: expected a string");
  const wanted = typeof size === "number" && size > 0 ? size : limits.defaultSize;
  return {
    size: Math.min(wanted, limits.maxSize),
    ...(typeof rawToken === "string" && rawToken !== "" ? { token: rawToken } : {}),
  };
}

interface TokenBody<T> {
  /** Which list, and of which repository, the token belongs to. */
  k: ListKind;
  r: string;
  /** The keyset position: the last item of the previous page. */
  a: T;
}

/** An opaque token for the page after `after` (base64url JSON: nothing a client should read). */
export function pageToken<T>(kind: ListKind, repository: string, after: T): string {
  const body: TokenBody<T> = { k: kind, r: repository, a: after };
  return Buffer.from(JSON.stringify(body)).toString("base64url");
}

/** The position a token names; INVALID_ARGUMENT for a token that is not one of this list's. */
export function pagePosition<T>(
  kind: ListKind,
  repository: string,
  token: string | undefined,
  valid: (after: unknown) => after is T,
): T | undefined {
  if (token === undefined) return undefined;
  let body: Partial<TokenBody<unknown>> | undefined;
  try {
    body = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as Partial<TokenBody<unknown>>;
  } catch {
    body = undefined;
  }
  if (!body || body.k !== kind || body.r !== repository || !valid(body.a)) {
    throw new YumError(
      "INVALID_ARGUMENT",
      `page.token: not a page token of this ${kind} list (use the next_page_token of the previous response)`,
    );
  }
  return body.a;
}

/** One page and, while more items follow, the token of the next. */
export interface Page<T> {
  items: T[];
  nextPageToken?: string;
}

/**
 * Cuts a page from `rows` read with a limit of `size + 1` (the extra row only says that more
 * follow): the token names the last row kept.
 */
export function cutPage<R, T, C>(
  rows: R[],
  size: number,
  toItem: (row: R) => T,
  cursor: (row: R) => C,
  token: (after: C) => string,
): Page<T> {
  const more = rows.length > size;
  const kept = more ? rows.slice(0, size) : rows;
  return {
    items: kept.map(toItem),
    ...(more && kept.length > 0 ? { nextPageToken: token(cursor(kept.at(-1)!)) } : {}),
  };
}
