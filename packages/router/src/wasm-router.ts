import { YumError } from "@beskar-yum/errors";
import { loadPolicy } from "@open-policy-agent/opa-wasm";
import type { RouteInput, RouteOutput, RouterBuiltins } from "./evaluate-route.js";
import { loadRouteTable } from "./route-table.js";
import { BuiltinSession, type WasmBuiltin, wasmCustomBuiltins } from "./wasm-builtins.js";

/** What this package uses of opa-wasm's LoadedPolicy. */
export interface WasmPolicy {
  readonly entrypoints: Record<string, number>;
  setData(data: object): void;
  /** The result set: `[{ result }]` when defined, `[]` when undefined. */
  evaluate(input: unknown, entrypoint?: number | string): unknown;
}

/** The bytes of a compiled policy (the `policy.wasm` of an `opa build -t wasm` bundle). */
export type WasmBytes = ArrayBuffer | ArrayBufferView;

/** WebAssembly.MemoryDescriptor, in 64 KiB pages. */
export interface WasmMemoryDescriptor {
  readonly initial: number;
  readonly maximum?: number;
}

/** opa-wasm's `loadPolicy`, or a stand-in with the same contract. */
export type WasmPolicyLoader = (
  wasm: WasmBytes,
  memory: WasmMemoryDescriptor,
  customBuiltins: Record<string, WasmBuiltin>,
) => Promise<WasmPolicy>;

export interface WasmRouterOptions {
  /** The entrypoint the bundle was built with (`opa build -t wasm -e router/output`). Default "router/output". */
  readonly entrypoint?: string;
  /** Initial wasm memory. Default: opa-wasm's, 5 pages. */
  readonly memory?: WasmMemoryDescriptor;
  /** Evaluation passes allowed to resolve asynchronous lookups (see `BuiltinSession`). Default 8. */
  readonly maxPasses?: number;
  /** Loads the policy. Default: opa-wasm's `loadPolicy`. */
  readonly loadPolicy?: WasmPolicyLoader;
}

export interface WasmRouter {
  /** The entrypoints compiled into the policy. */
  readonly entrypoints: readonly string[];
  /**
   * Evaluates `data.router.output` for one request. `builtins` replaces, for this evaluation,
   * builtins given to `loadWasmRouter`, typically `requestBody` for the request at hand.
   */
  evaluate(input: RouteInput, builtins?: Partial<RouterBuiltins>): Promise<RouteOutput>;
}

const noRequestBody: Pick<RouterBuiltins, "requestBody"> = { requestBody: () => null };

/**
 * Loads router.rego compiled to wasm (the `policy.wasm` of an `opa build -t wasm` bundle) with
 * `data` (policy/data.json, parsed or as JSON text; validated like `loadRouteTable`) and Beskar's
 * custom builtins. Without a `requestBody`, requests have no body.
 */
export async function loadWasmRouter(
  wasmBytes: WasmBytes,
  data: unknown,
  builtins: Pick<RouterBuiltins, "blobDigest"> & Partial<RouterBuiltins>,
  options: WasmRouterOptions = {},
): Promise<WasmRouter> {
  const document = parseData(data);
  loadRouteTable(document);
  const entrypoint = options.entrypoint ?? "router/output";
  const maxPasses = options.maxPasses ?? 8;

  let active: BuiltinSession | undefined;
  const current = (): BuiltinSession => {
    if (!active) throw new YumError("INTERNAL", "router builtin called outside an evaluation");
    return active;
  };
  const load = options.loadPolicy ?? defaultLoader;
  const policy = await load(
    wasmBytes,
    { ...(options.memory ?? { initial: 5 }) },
    wasmCustomBuiltins(current),
  );
  const entrypointId = policy.entrypoints[entrypoint];
  if (entrypointId === undefined) {
    throw new YumError(
      "CONFIG_INVALID",
      `router policy has no entrypoint ${entrypoint} (it has ${Object.keys(policy.entrypoints).join(", ") || "none"})`,
    );
  }
  policy.setData(document);

  return {
    entrypoints: Object.keys(policy.entrypoints),
    async evaluate(input, overrides = {}) {
      const session = new BuiltinSession({ ...noRequestBody, ...builtins, ...overrides });
      for (let pass = 1; ; pass++) {
        let resultSet: unknown;
        active = session;
        try {
          resultSet = policy.evaluate({ path: input.path, method: input.method }, entrypointId);
        } catch (err) {
          throw err instanceof Error
            ? err
            : new YumError("INTERNAL", `router policy evaluation failed: ${String(err)}`);
        } finally {
          active = undefined;
        }
        if (!session.unsettled) return toRouteOutput(resultSet);
        if (pass >= maxPasses) {
          throw new YumError("INTERNAL", `router policy still made new lookups after ${maxPasses} passes`, {
            input,
          });
        }
        await session.settle();
      }
    },
  };
}

/**
 * Reads a result set of `data.router.output` as Beskar's router does: a missing or mistyped
 * field is "" or false; an undefined result is an error.
 */
export function toRouteOutput(resultSet: unknown): RouteOutput {
  const first = Array.isArray(resultSet) ? (resultSet[0] as { result?: unknown } | undefined) : undefined;
  const result = first?.result;
  if (typeof result !== "object" || result === null) {
    throw new YumError("INTERNAL", `router policy returned no output: ${JSON.stringify(resultSet)}`);
  }
  const { repository, redirect_url, found } = result as Record<string, unknown>;
  return {
    repository: typeof repository === "string" ? repository : "",
    redirect_url: typeof redirect_url === "string" ? redirect_url : "",
    found: found === true,
  };
}

const defaultLoader: WasmPolicyLoader = async (wasm, memory, customBuiltins) =>
  (await loadPolicy(wasm, memory, customBuiltins)) as WasmPolicy;

function parseData(data: unknown): object {
  let document = data;
  if (typeof data === "string" || data instanceof Uint8Array) {
    try {
      document = JSON.parse(typeof data === "string" ? data : new TextDecoder().decode(data));
    } catch (err) {
      throw new YumError("CONFIG_INVALID", `router data is not valid JSON: ${String(err)}`);
    }
  }
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    throw new YumError("CONFIG_INVALID", "router data must be a JSON object");
  }
  return document;
}
