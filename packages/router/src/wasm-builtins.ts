import { createHash } from "node:crypto";
import { YumError } from "@beskar-yum/errors";
import type { RouterBuiltins } from "./evaluate-route.js";

/** A builtin as opa-wasm calls it: synchronously, with JSON values in and out. */
export type WasmBuiltin = (...args: unknown[]) => unknown;

/**
 * The builtins of one evaluation, served synchronously as the wasm ABI needs.
 *
 * A lookup that answers with a promise cannot be waited for inside the wasm call, so the session
 * answers with a placeholder ("" for a digest, null for a body), records the promise, and the
 * evaluation is run again once `settle()` has its value. Results are kept by arguments, so the
 * final pass sees only real values; a pass that made no new asynchronous call is final.
 */
export class BuiltinSession {
  private readonly results = new Map<string, unknown>();
  private readonly pending = new Map<string, Promise<void>>();
  private failure: { error: unknown } | undefined;

  constructor(private readonly builtins: RouterBuiltins) {}

  /** Whether the last pass used a placeholder, so its result must not be used. */
  get unsettled(): boolean {
    return this.pending.size > 0;
  }

  /** `oci.blob_digest(ref, kind, value)`. */
  blobDigest(ref: unknown, kind: unknown, value: unknown): string {
    if (typeof ref !== "string" || typeof kind !== "string" || typeof value !== "string") {
      throw new YumError("INTERNAL", "oci.blob_digest: reference, search type and value must be strings", {
        args: [ref, kind, value],
      });
    }
    // Beskar answers "" to a search type it does not know, without looking the tag up.
    if (kind !== "mediatype" && kind !== "annotation") return "";
    const digest = this.call(JSON.stringify(["oci.blob_digest", ref, kind, value]), "", () =>
      this.builtins.blobDigest(ref, kind, value),
    );
    if (typeof digest !== "string") {
      throw new YumError("INTERNAL", `oci.blob_digest returned ${typeof digest}, not a string`, { ref });
    }
    return digest;
  }

  /** `request.body()`: the body, read once per evaluation; null when there is none. */
  requestBody(): unknown {
    return this.call("request.body", null, () => this.builtins.requestBody()) ?? null;
  }

  /** Waits for the lookups the last pass started; rethrows the first that failed. */
  async settle(): Promise<void> {
    await Promise.all(this.pending.values());
    this.pending.clear();
    if (this.failure) throw this.failure.error;
  }

  private call(key: string, placeholder: unknown, compute: () => unknown): unknown {
    if (this.results.has(key)) return this.results.get(key);
    if (this.pending.has(key)) return placeholder;
    const value = compute();
    if (!isPromiseLike(value)) {
      this.results.set(key, value);
      return value;
    }
    this.pending.set(
      key,
      Promise.resolve(value).then(
        (settled) => {
          this.results.set(key, settled);
        },
        (error: unknown) => {
          this.failure ??= { error };
        },
      ),
    );
    return placeholder;
  }
}

/**
 * The custom builtins handed to opa-wasm's `loadPolicy`, dispatching to the session of the
 * evaluation in progress. `crypto.md5` is here because opa-wasm implements neither it natively
 * nor in JS (it is absent from the SDK's capabilities.json).
 */
export function wasmCustomBuiltins(current: () => BuiltinSession): Record<string, WasmBuiltin> {
  return {
    "oci.blob_digest": (ref, kind, value) => current().blobDigest(ref, kind, value),
    "request.body": () => current().requestBody(),
    "crypto.md5": (value) => {
      if (typeof value !== "string") throw new YumError("INTERNAL", "crypto.md5: operand must be a string");
      return createHash("md5").update(value, "utf8").digest("hex");
    },
  };
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}
