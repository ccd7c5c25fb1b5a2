import { parentPort } from "node:worker_threads";
import { isFailure, type ParseFailure, type ParseTask, parsePackage } from "./parse-package.js";

/** A batch of tasks for one parser thread. */
export interface BatchRequest {
  id: number;
  tasks: ParseTask[];
}

/** The answer: fragments of every parsed RPM packed into one transferred buffer. */
export interface BatchResponse {
  id: number;
  /** Per parsed RPM: index, pkgid and the byte lengths of its primary, filelists, other fragments in `data`. */
  parsed: { index: number; pkgid: string; lengths: [number, number, number] }[];
  failures: ParseFailure[];
  data: ArrayBuffer;
}

/** Parses a batch and packs the result so it crosses threads without copying. */
export async function parseBatch(request: BatchRequest): Promise<BatchResponse> {
  const parsed: BatchResponse["parsed"] = [];
  const failures: ParseFailure[] = [];
  const chunks: Buffer[] = [];
  let total = 0;
  for (const task of request.tasks) {
    const r = await parsePackage(task);
    if (isFailure(r)) {
      failures.push(r);
      continue;
    }
    parsed.push({
      index: r.index,
      pkgid: r.pkgid,
      lengths: [r.primary.length, r.filelists.length, r.other.length],
    });
    chunks.push(r.primary, r.filelists, r.other);
    total += r.primary.length + r.filelists.length + r.other.length;
  }
  const data = new ArrayBuffer(total);
  const view = new Uint8Array(data);
  let at = 0;
  for (const c of chunks) {
    view.set(c, at);
    at += c.length;
  }
  return { id: request.id, parsed, failures, data };
}

parentPort?.on("message", (request: BatchRequest) => {
  parseBatch(request).then(
    (response) => parentPort!.postMessage(response, [response.data]),
    (err: unknown) => parentPort!.postMessage({ id: request.id, error: String((err as Error).stack ?? err) }),
  );
});
