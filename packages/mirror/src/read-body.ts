import type { IncomingMessage } from "node:http";
import { Verification } from "./verifier.js";

/** Reads `body` to its end, handing each chunk to `onChunk` (which may throw to stop). */
export function readBody(body: IncomingMessage, onChunk: (chunk: Buffer) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      body.destroy();
      reject(err);
    };
    body.on("data", (chunk: Buffer) => {
      if (settled) return;
      try {
        onChunk(chunk);
      } catch (err) {
        fail(err);
      }
    });
    body.once("error", fail);
    body.once("end", () => {
      settled = true;
      resolve();
    });
    // Destroyed without an error (the connection went away): not the whole body. (The error is made
    // only then: an Error's stack costs more than the rest of a small package's request.)
    body.once("close", () => {
      if (!settled)
        fail(Object.assign(new Error("the connection closed before the body ended"), { code: "ECONNRESET" }));
    });
  });
}

/** The whole body as UTF-8, at most `maxBytes` (a bigger one fails with `UPSTREAM_SIZE_MISMATCH`). */
export async function readText(body: IncomingMessage, maxBytes: number, what: string): Promise<string> {
  const chunks: Buffer[] = [];
  const check = new Verification({}, maxBytes, what);
  await readBody(body, (chunk) => {
    check.update(chunk);
    chunks.push(chunk);
  });
  return Buffer.concat(chunks).toString("utf8");
}
