import { createHash } from "node:crypto";
import type { BlobSearchKind } from "./oci-blob-digest.js";
import type { BlobRoute, Route, RouteTable } from "./route-table.js";

/** Beskar's routing input: the request's (decoded) URL path and its method. */
export interface RouteInput {
  readonly path: string;
  readonly method: string;
}

/** `data.router.output`, as Beskar reads it. */
export interface RouteOutput {
  /** The repository whose node serves the request (rendezvous hash); "" for any node. */
  readonly repository: string;
  /** When set, Beskar answers 301 to this registry blob URL instead of proxying. */
  readonly redirect_url: string;
  /** false: Beskar answers 404. */
  readonly found: boolean;
}

/** Beskar's custom Rego builtins, as the router calls them. */
export interface RouterBuiltins {
  /**
   * `oci.blob_digest(ref, kind, value)`: the hex digest (no algorithm prefix) of the first layer of
   * the manifest tagged `<repository>:<tag>` with that mediatype, or annotation `key=value`;
   * "" when the tag is unknown or no layer qualifies (see `findLayerDigest`).
   */
  blobDigest(ref: string, kind: BlobSearchKind, value: string): string | Promise<string>;
  /** `request.body()`: the request's JSON body (read up to a limit); null or undefined without one. */
  requestBody(): unknown;
}

/** One `oci.blob_digest` call. */
export interface BlobLookup {
  readonly ref: string;
  readonly kind: BlobSearchKind;
  readonly value: string;
}

/** How a routing decision was reached. */
export type RouteDecision =
  /** A content route looked its blob up. */
  | { readonly kind: "blob"; readonly route: number; readonly lookup: BlobLookup; readonly digest: string }
  /** An API route read the repository from a JSON object body. */
  | { readonly kind: "body"; readonly route: number }
  /** A write route named its repository in the path. */
  | { readonly kind: "path"; readonly route: number }
  /** A route applied without naming a repository (the doc route, an API request without JSON object body). */
  | { readonly kind: "match"; readonly route: number }
  /** Patterns matched but no route accepts the method: forwarded to the plugin without a repository. */
  | { readonly kind: "method-not-allowed"; readonly matched: readonly number[] }
  /** No pattern matched. */
  | { readonly kind: "no-route" };

export interface RouteTrace {
  readonly output: RouteOutput;
  readonly decision: RouteDecision;
}

/** Evaluates the route table as router.rego does: the output Beskar's `data.router.output` gives. */
export async function evaluateRoute(
  table: RouteTable,
  input: RouteInput,
  builtins: RouterBuiltins,
): Promise<RouteOutput> {
  return (await traceRoute(table, input, builtins)).output;
}

/** `evaluateRoute`, also telling which route decided and how. */
export async function traceRoute(
  table: RouteTable,
  input: RouteInput,
  builtins: RouterBuiltins,
): Promise<RouteTrace> {
  const matched: { route: Route; submatches: string[] }[] = [];
  for (const route of table.routes) {
    const m = route.regexp.exec(input.path);
    // Go gives "" for a group that did not participate.
    if (m) matched.push({ route, submatches: Array.from(m, (s) => s ?? "") });
  }
  const applicable = matched.find(({ route }) => !route.methods || route.methods.includes(input.method));
  if (applicable) return decide(table, applicable.route, applicable.submatches, builtins);
  if (matched.length > 0) {
    return {
      output: forwarded,
      decision: { kind: "method-not-allowed", matched: matched.map(({ route }) => route.index) },
    };
  }
  return { output: notFound, decision: { kind: "no-route" } };
}

const notFound: RouteOutput = { repository: "", redirect_url: "", found: false };
const forwarded: RouteOutput = { repository: "", redirect_url: "", found: true };

async function decide(
  table: RouteTable,
  route: Route,
  submatches: string[],
  builtins: RouterBuiltins,
): Promise<RouteTrace> {
  if (route.kind === "blob") {
    const repository = submatches[1]!;
    const ociRepository = `${repository}/${route.blobtype}`;
    const lookup = blobLookup(table, route, ociRepository, submatches[2]!);
    const digest = await builtins.blobDigest(lookup.ref, lookup.kind, lookup.value);
    if (typeof digest !== "string") {
      throw new TypeError(`oci.blob_digest returned ${typeof digest}, not a string`);
    }
    return {
      output: {
        repository,
        redirect_url: digest === "" ? "" : `/v2/${ociRepository}/blobs/sha256:${digest}`,
        found: digest !== "",
      },
      decision: { kind: "blob", route: route.index, lookup, digest },
    };
  }
  if (route.kind === "body") {
    const body = await builtins.requestBody();
    if (typeof body === "object" && body !== null && !Array.isArray(body)) {
      const value = Object.hasOwn(body, route.bodyKey)
        ? (body as Record<string, unknown>)[route.bodyKey]
        : "";
      const repository = typeof value === "string" ? value : "";
      return {
        output: { repository, redirect_url: "", found: repository !== "" },
        decision: { kind: "body", route: route.index },
      };
    }
  }
  if (route.kind === "path") {
    return {
      output: { repository: submatches[1]!, redirect_url: "", found: true },
      decision: { kind: "path", route: route.index },
    };
  }
  return { output: forwarded, decision: { kind: "match", route: route.index } };
}

/** router.rego's `layer_digest`: which manifest and which layer hold a content file. */
function blobLookup(table: RouteTable, route: BlobRoute, ociRepository: string, file: string): BlobLookup {
  if (route.blobtype === "packages") {
    const tag = createHash("md5").update(file, "utf8").digest("hex");
    return { ref: `${ociRepository}:${tag}`, kind: "mediatype", value: table.mediatype.rpm };
  }
  const ref = `${ociRepository}:${table.repomdTag}`;
  if (file === "repomd.xml") return { ref, kind: "mediatype", value: table.mediatype.repomd };
  if (file === "repomd.xml.asc") return { ref, kind: "mediatype", value: table.mediatype.repomdasc };
  return { ref, kind: "annotation", value: `${table.titleAnnotation}=${file}` };
}
