import { YumError } from "@beskar-yum/errors";
import { captureGroupCount, compileGoRegExp } from "./go-regexp.js";

/** The blob types router.rego knows how to look up (`data.routes[_].blobtype`). */
export const blobTypes = ["packages", "repodata"] as const;
export type BlobType = (typeof blobTypes)[number];

interface RouteBase {
  /** Position in `data.routes`: the first applicable route decides. */
  readonly index: number;
  /** The RE2 pattern as data.json holds it. */
  readonly pattern: string;
  readonly regexp: RegExp;
  /** The methods the route accepts; undefined accepts any. */
  readonly methods: readonly string[] | undefined;
}

/** Content route: group 1 is the repository, group 2 the file, answered by a redirect to the blob. */
export interface BlobRoute extends RouteBase {
  readonly kind: "blob";
  readonly blobtype: BlobType;
}

/** API route: the repository is the `bodyKey` field of the JSON body. */
export interface BodyRoute extends RouteBase {
  readonly kind: "body";
  readonly bodyKey: string;
}

/** Write route (uploads): group 1 is the repository, so the write reaches the node that owns it. */
export interface PathRoute extends RouteBase {
  readonly kind: "path";
}

/** Route that is found without a repository (the API documentation). */
export interface PlainRoute extends RouteBase {
  readonly kind: "plain";
}

export type Route = BlobRoute | BodyRoute | PathRoute | PlainRoute;

/** policy/data.json, validated and compiled. */
export interface RouteTable {
  readonly routes: readonly Route[];
  /** `data.mediatype`: layer mediatypes of a package, repomd.xml and repomd.xml.asc. */
  readonly mediatype: { readonly rpm: string; readonly repomd: string; readonly repomdasc: string };
  /** `data.tag.repomd`: the tag of the repodata manifest. */
  readonly repomdTag: string;
  /** `data.annotation.title`: the annotation naming a repodata file. */
  readonly titleAnnotation: string;
}

const routeKeys = new Set(["pattern", "blobtype", "methods", "body", "body_key", "path_repository"]);

/**
 * Validates and compiles the data document of router.rego (policy/data.json, parsed or as JSON
 * text). Stricter than the Rego, which would silently skip what it cannot use: unknown keys,
 * blob types router.rego has no lookup for, or a content pattern without its two groups are
 * refused with CONFIG_INVALID.
 */
export function loadRouteTable(data: unknown): RouteTable {
  const doc = parseDocument(data);
  const routes = doc.routes;
  if (!Array.isArray(routes) || routes.length === 0) invalid("routes", "a non-empty array", routes);
  const mediatype = objectAt(doc.mediatype, "mediatype");
  return {
    routes: routes.map((route, index) => loadRoute(route, index)),
    mediatype: {
      rpm: stringAt(mediatype.rpm, "mediatype.rpm"),
      repomd: stringAt(mediatype.repomd, "mediatype.repomd"),
      repomdasc: stringAt(mediatype.repomdasc, "mediatype.repomdasc"),
    },
    repomdTag: stringAt(objectAt(doc.tag, "tag").repomd, "tag.repomd"),
    titleAnnotation: stringAt(objectAt(doc.annotation, "annotation").title, "annotation.title"),
  };
}

function loadRoute(value: unknown, index: number): Route {
  const at = `routes[${index}]`;
  const route = objectAt(value, at);
  for (const key of Object.keys(route)) {
    if (!routeKeys.has(key)) invalid(`${at}.${key}`, `one of ${[...routeKeys].join(", ")}`, key);
  }
  const pattern = stringAt(route.pattern, `${at}.pattern`);
  const regexp = compileGoRegExp(pattern);
  const methods = route.methods === undefined ? undefined : stringArrayAt(route.methods, `${at}.methods`);
  const base = { index, pattern, regexp, methods };
  if (route.body !== undefined && typeof route.body !== "boolean")
    invalid(`${at}.body`, "a boolean", route.body);
  if (route.path_repository !== undefined && typeof route.path_repository !== "boolean")
    invalid(`${at}.path_repository`, "a boolean", route.path_repository);
  if (route.path_repository === true && (route.blobtype !== undefined || route.body === true))
    invalid(`${at}.path_repository`, "absent on a blob or body route", route.path_repository);

  if (route.blobtype !== undefined) {
    const blobtype = route.blobtype;
    if (!blobTypes.includes(blobtype as BlobType))
      invalid(`${at}.blobtype`, blobTypes.join(" or "), blobtype);
    if (route.body === true) invalid(`${at}.body`, "false or absent on a blob route", route.body);
    if (captureGroupCount(regexp) < 2) invalid(`${at}.pattern`, "two groups (repository, file)", pattern);
    return { ...base, kind: "blob", blobtype: blobtype as BlobType };
  }
  if (route.body === true) {
    return { ...base, kind: "body", bodyKey: stringAt(route.body_key, `${at}.body_key`) };
  }
  if (route.body_key !== undefined) invalid(`${at}.body_key`, "absent unless body is true", route.body_key);
  if (route.path_repository === true) {
    if (captureGroupCount(regexp) < 1) invalid(`${at}.pattern`, "a group (repository)", pattern);
    return { ...base, kind: "path" };
  }
  return { ...base, kind: "plain" };
}

function parseDocument(data: unknown): Record<string, unknown> {
  if (typeof data === "string" || data instanceof Uint8Array) {
    const text = typeof data === "string" ? data : new TextDecoder().decode(data);
    try {
      return objectAt(JSON.parse(text), "data");
    } catch (err) {
      if (err instanceof YumError) throw err;
      throw new YumError("CONFIG_INVALID", `router data is not valid JSON: ${String(err)}`);
    }
  }
  return objectAt(data, "data");
}

function objectAt(value: unknown, at: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) invalid(at, "an object", value);
  return value as Record<string, unknown>;
}

function stringAt(value: unknown, at: string): string {
  if (typeof value !== "string" || value === "") invalid(at, "a non-empty string", value);
  return value as string;
}

function stringArrayAt(value: unknown, at: string): string[] {
  if (!Array.isArray(value)) invalid(at, "an array of strings", value);
  return (value as unknown[]).map((item, i) => stringAt(item, `${at}[${i}]`));
}

function invalid(at: string, expected: string, got: unknown): never {
  throw new YumError(
    "CONFIG_INVALID",
    `router data: ${at} must be ${expected}, got ${JSON.stringify(got) ?? String(got)}`,
    { at },
  );
}
