import { timingSafeEqual } from "node:crypto";
import { YumError } from "@beskar-yum/errors";
import type { FastifyRequest } from "fastify";

/** Checks `Authorization: Bearer <token>` against the admin token, in constant time. */
export function requireAdmin(request: FastifyRequest, adminToken: string): void {
  requireToken(request, adminToken, "admin token");
}

/** Checks `Authorization: Bearer <token>` against `token`, in constant time. */
export function requireToken(request: FastifyRequest, token: string, what: string): void {
  const header = request.headers.authorization ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match)
    throw new YumError("UNAUTHENTICATED", `missing bearer token: send Authorization: Bearer <${what}>`);
  const given = Buffer.from(match[1]!);
  const expected = Buffer.from(token);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new YumError("UNAUTHENTICATED", "invalid bearer token");
  }
}
