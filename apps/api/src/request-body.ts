import { YumError } from "@beskar-yum/errors";
import type { FastifyRequest } from "fastify";

const maxJsonBody = 1 << 20;

/**
 * The request's JSON object: from the body (Beskar's clients send one even with GET, which fastify
 * does not parse, so we read it here) merged over the query string.
 */
export async function requestFields(request: FastifyRequest): Promise<Record<string, unknown>> {
  let body: unknown = request.body;
  if (body === undefined && (request.method === "GET" || request.method === "HEAD") && hasBody(request)) {
    body = await readJson(request);
  }
  if (body !== undefined && body !== null && (typeof body !== "object" || Array.isArray(body))) {
    throw new YumError("INVALID_ARGUMENT", "request body: expected a JSON object");
  }
  const query = (request.query ?? {}) as Record<string, unknown>;
  return { ...parseQuery(query), ...((body as Record<string, unknown> | undefined) ?? {}) };
}

function hasBody(request: FastifyRequest): boolean {
  const length = request.headers["content-length"];
  return (length !== undefined && length !== "0") || request.headers["transfer-encoding"] !== undefined;
}

async function readJson(request: FastifyRequest): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request.raw as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxJsonBody)
      throw new YumError("PAYLOAD_TOO_LARGE", `request body exceeds ${maxJsonBody} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8").trim();
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new YumError("INVALID_ARGUMENT", `request body is not valid JSON: ${(err as Error).message}`);
  }
}

/** Query strings carry text only: turn "true"/"false" and JSON-looking values into what a body would hold. */
function parseQuery(query: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(query)) {
    if (value === "true" || value === "false") out[key] = value === "true";
    else if (typeof value === "string" && /^[[{]/.test(value)) {
      try {
        out[key] = JSON.parse(value);
      } catch {
        out[key] = value;
      }
    } else out[key] = value;
  }
  return out;
}
