import { timingSafeEqual } from "node:crypto";
import { YumError } from "@beskar-yum/errors";
import type { FastifyRequest } from "fastify";

/** Checks `Authorization: Bearer <token>` against the admin token, in constant time. */
export function requireAdmin(request: FastifyRequest, adminToken: string): void {
  const header = request.headers.authorization ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match)
    throw new YumError("UNAUTHENTICATED", "missing bearer token: send Authorization: Bearer <admin token>");
  const given = Buffer.from(match[1]!);
  const expected = Buffer.from(adminToken);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new YumError("UNAUTHENTICATED", "invalid bearer token");
  }
}
