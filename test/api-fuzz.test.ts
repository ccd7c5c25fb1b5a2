import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "./harness/stack.js";
import { rockyTestdata } from "./harness/upstream.js";
import { cleanupTempDirs, makeTempDir } from "./support/tmp.js";

/**
 * Hostile requests against a real API process: uploads of mutated real RPMs, extra metadata of
 * every shape (entity bombs, DOCTYPEs, random compression magic), and every admin route under
 * /artifacts/yum/api/v1 with JSON of the wrong shapes, huge strings and odd names. Whatever comes in:
 * no 5xx, the process stays up (/healthz 200), and a refused request changes nothing: the seeded
 * hosted repository's repomd.xml is byte-equal before and after it.
 *
 * FUZZ_RUNS (default 300) and FUZZ_SEED (a failure prints its seed and path) replay a run.
 */
const runs = Number(process.env.FUZZ_RUNS ?? 300);
const seedOption = process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {};
/** 300 requests in under 60 s (more runs, proportionally more). */
const timeBudgetMs = Math.max(60_000, runs * 200);

const seed = "artifacts/yum/fuzz-seed";
const other = "artifacts/yum/fuzz-other";
const api = "/artifacts/yum/api/v1";

interface FuzzRequest {
  kind: "upload" | "extra" | "admin";
  method: string;
  /** Sent as written (no normalisation of `..` or `%2f`): only bytes outside ASCII are escaped. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** A request that, if accepted, may change the seeded repository (its repomd.xml is re-read). */
  touchesSeed: boolean;
}

/** What the request sends, short enough to read in a failure. */
const describeRequest = (r: FuzzRequest) =>
  `${r.method} ${r.path.slice(0, 300)} (${r.body?.length ?? 0} bytes: ${JSON.stringify(
    r.body?.subarray(0, 120).toString("latin1") ?? "",
  )})`;

/** Escapes what Node refuses in a request path (non-ASCII, controls, spaces), nothing else. */
const rawPath = (path: string) =>
  path.replace(/[^\x21-\x7e]/gu, (c) =>
    [...Buffer.from(c, "utf8")].map((b) => `%${b.toString(16).padStart(2, "0").toUpperCase()}`).join(""),
  );

function send(
  base: string,
  r: FuzzRequest,
): Promise<{ status: number; text: string; headers: Record<string, unknown> }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const headers = { ...r.headers, "content-length": String(r.body?.length ?? 0) };
    const req = request(
      { host: url.hostname, port: url.port, method: r.method, path: rawPath(r.path), headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            text: Buffer.concat(chunks).toString("utf8"),
            headers: res.headers,
          }),
        );
        res.on("error", reject);
      },
    );
    req.setTimeout(20_000, () => req.destroy(new Error("no answer within 20 s")));
    // A refused upload is answered before its body is read, and the connection closed: not an error.
    req.on("error", (err) => reject(err));
    req.end(r.body);
  });
}

describe("fuzzing the upload, extra metadata and admin endpoints", () => {
  let stack: Stack;
  let rpms: Buffer[];
  let compressedXml: Buffer[];
  let token: string;

  beforeAll(async () => {
    stack = await startStack({ name: "fuzz" });
    token = stack.token;
    const packages = join(rockyTestdata, "Packages");
    rpms = [
      "booth-debugsource-1.0-6.ac1d34c.git.el8.2.x86_64.rpm",
      "clufter-debugsource-0.77.1-5.el8.x86_64.rpm",
      "kronosnet-debugsource-1.16-1.el8.i686.rpm",
    ].map((f) => readFileSync(join(packages, f)));
    // The seeded hosted repository: a package and a comps file, published.
    const seeded = await stack.upload(
      seed,
      join(packages, "booth-debugsource-1.0-6.ac1d34c.git.el8.2.x86_64.rpm"),
      {
        wait: true,
      },
    );
    expect(seeded.status, JSON.stringify(seeded.json)).toBe(201);
    const comps = `<?xml version="1.0"?>\n<!DOCTYPE comps PUBLIC "-//Red Hat, Inc.//DTD Comps info//EN" "comps.dtd">\n<comps><group><id>g</id><name>G</name></group></comps>\n`;
    const put = await fetch(`${stack.repoUrl(seed)}repodata/extra/group?wait=true`, {
      method: "PUT",
      headers: { authorization: `Bearer ${token}` },
      body: gzipSync(comps),
    });
    expect(put.status).toBe(201);
    expect((await stack.call("POST", "/repository", { repository: other, properties: {} })).status).toBe(200);
    // xz, bzip2 and zstd bodies (of a bomb, and of well-formed XML), as the tools write them.
    const dir = makeTempDir("fuzz-compressed");
    compressedXml = [];
    for (const [i, text] of [xmlBodies.bomb, xmlBodies.plain].entries()) {
      for (const tool of ["xz", "bzip2", "zstd"]) {
        const path = join(dir, `x${i}-${tool}`);
        writeFileSync(path, text);
        compressedXml.push(execFileSync(tool, ["-c", "-q", path]));
      }
    }
  });
  afterAll(async () => {
    await stack?.stop();
    await cleanupTempDirs();
  });

  it(`answers ${runs} hostile requests without a 5xx, a crash or a change from a refused request`, async () => {
    let apiExited = false;
    void stack.api.exited.then(() => {
      apiExited = true;
    });
    const repomd = async () => {
      const response = await fetch(`${stack.repoUrl(seed)}repodata/repomd.xml`);
      return `${response.status} ${await response.text()}`;
    };
    /** The seed's repomd.xml once publishing (debounced) has settled: the same on 3 reads 300 ms apart. */
    const settled = async () => {
      let last = await repomd();
      for (let same = 0; same < 3; ) {
        await new Promise((r) => setTimeout(r, 300));
        const now = await repomd();
        same = now === last ? same + 1 : 0;
        last = now;
      }
      return last;
    };
    let baseline = await repomd();
    const tally = { total: 0, refused: 0, accepted: 0, byStatus: new Map<string, number>() };
    const started = Date.now();

    const check = async (r: FuzzRequest) => {
      const response = await send(stack.url, r).catch((err: Error) => {
        throw new Error(
          `${describeRequest(r)}: ${err.message}; the API's last output:\n${stack.api.output().slice(-4000)}`,
        );
      });
      tally.total++;
      const key = `${r.kind} ${response.status}`;
      tally.byStatus.set(key, (tally.byStatus.get(key) ?? 0) + 1);
      const what = `${describeRequest(r)} → ${response.status} ${response.text.slice(0, 300)}`;
      expect(response.status, what).toBeLessThan(500);
      expect(apiExited, `the API process exited after ${what}\n${stack.api.output().slice(-3000)}`).toBe(
        false,
      );
      const health = await fetch(`${stack.url}/healthz`);
      expect(health.status, `/healthz after ${what}`).toBe(200);
      if (response.status >= 400) {
        tally.refused++;
        expect(await repomd(), `repomd.xml changed by the refused ${what}`).toBe(baseline);
      } else {
        tally.accepted++;
        if (r.touchesSeed) baseline = await settled();
      }
    };
    // What earlier runs found, replayed first on every run.
    for (const r of regressions(token)) await check(r);
    await fc.assert(
      fc.asyncProperty(
        fuzzRequest(
          () => rpms,
          () => compressedXml,
          () => token,
        ),
        check,
      ),
      // No shrinking: a failure may have taken the server down, and replaying against it says nothing.
      { numRuns: runs, endOnFailure: true, ...seedOption },
    );
    const elapsed = Date.now() - started;
    console.log(
      `fuzz: ${tally.total} requests in ${elapsed} ms, ${tally.refused} refused, ${tally.accepted} accepted; by status ${JSON.stringify(Object.fromEntries(tally.byStatus))}`,
    );
    expect(elapsed).toBeLessThan(timeBudgetMs);
    expect(tally.refused).toBeGreaterThan(runs / 2);
  });
});

/** Requests that once failed, each named by what it found. */
function regressions(token: string): FuzzRequest[] {
  const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  return [
    // A JSON body over the 1 MiB limit on an admin GET: 413, then null.destroy() crashed the API
    // (closeUnreadRequest used req.socket, which Node nulls once the body reader destroyed it).
    {
      kind: "admin",
      method: "GET",
      path: `${api}/repository/package:list?repository=artifacts/yum/fz-none`,
      headers: auth,
      body: Buffer.alloc(3 * 1024 * 1024, "x"),
      touchesSeed: false,
    },
    {
      kind: "admin",
      method: "POST",
      path: `${api}/repository`,
      headers: auth,
      body: Buffer.from(
        JSON.stringify({ repository: seed, properties: { gpg_key: "x".repeat(2 * 1024 * 1024) } }),
      ),
      touchesSeed: false,
    },
  ];
}

const xmlBodies = {
  bomb: `<?xml version="1.0"?>\n<!DOCTYPE updates [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>\n<updates>&c;</updates>`,
  external: `<?xml version="1.0"?>\n<!DOCTYPE updates SYSTEM "http://127.0.0.1:9/evil.dtd">\n<updates/>`,
  xxe: `<?xml version="1.0"?>\n<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n<foo>&xxe;</foo>`,
  parameter: `<?xml version="1.0"?>\n<!DOCTYPE foo [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]>\n<foo/>`,
  plain: `<?xml version="1.0"?>\n<updates><update><id>FUZZ-1</id></update></updates>\n`,
  malformed: "<updates><update></updates>",
  unclosed: `<?xml version="1.0"?><comps><group>`,
  pi: `<?xml version="1.0"?><?xml-stylesheet href="x"?><comps/>`,
  yaml: "---\ndocument: modulemd\nversion: 2\n...\n",
};

/** Odd path segments and names. */
const oddSegment = fc.oneof(
  fc.constantFrom(
    "..",
    ".",
    "%2e%2e",
    "%2f",
    "a%2fb",
    "..%2f..%2findex.db",
    "%00",
    "%",
    "%zz",
    "~",
    "é",
    "☃",
    "😀",
    "x".repeat(300),
    "a".repeat(64),
    "index.db",
    "repomd.xml",
    "..;",
    "\\",
    "a b",
  ),
  fc.string({ unit: "binary", maxLength: 24 }).map((s) => s.replace(/[/?#]/g, "_")),
);

const repositoryPart = fc.oneof(
  { weight: 6, arbitrary: fc.constant(seed) },
  { weight: 2, arbitrary: fc.constant(other) },
  { weight: 2, arbitrary: fc.stringMatching(/^[a-z0-9]{1,10}$/).map((n) => `artifacts/yum/fz-${n}`) },
  { weight: 2, arbitrary: oddSegment.map((s) => `artifacts/yum/${s}`) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "artifacts/yum/A",
      "artifacts/yum/x/../fuzz-seed",
      "artifacts/yum/fuzz-seed/repo",
    ),
  },
);

/** A real RPM, mutated: bit flips, truncated, garbage appended, spliced, empty, or as it is. */
function mutatedRpm(rpms: () => Buffer[]) {
  return fc
    .record({
      pick: fc.nat(),
      mutation: fc.oneof(
        fc.record({
          kind: fc.constant("flip" as const),
          at: fc.array(fc.nat(), { minLength: 1, maxLength: 8 }),
        }),
        fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
        fc.record({
          kind: fc.constant("append" as const),
          data: fc.uint8Array({ minLength: 1, maxLength: 4096 }),
        }),
        fc.record({ kind: fc.constant("splice" as const), at: fc.nat(), other: fc.nat() }),
        fc.record({
          kind: fc.constant("header" as const),
          at: fc.nat({ max: 4096 }),
          data: fc.uint8Array({ minLength: 1, maxLength: 64 }),
        }),
        fc.constant({ kind: "empty" as const }),
        fc.constant({ kind: "garbage" as const }),
        fc.constant({ kind: "asis" as const }),
      ),
    })
    .map(({ pick, mutation }) => {
      const all = rpms();
      const rpm = Buffer.from(all[pick % all.length]!);
      switch (mutation.kind) {
        case "flip":
          for (const at of mutation.at) rpm[at % rpm.length]! ^= 1 << (at % 8);
          return rpm;
        case "truncate":
          return rpm.subarray(0, mutation.at % rpm.length);
        case "append":
          return Buffer.concat([rpm, Buffer.from(mutation.data)]);
        case "splice": {
          const second = all[mutation.other % all.length]!;
          const cut = mutation.at % rpm.length;
          return Buffer.concat([rpm.subarray(0, cut), second.subarray(cut)]);
        }
        case "header":
          Buffer.from(mutation.data).copy(rpm, mutation.at);
          return rpm;
        case "empty":
          return Buffer.alloc(0);
        case "garbage":
          return Buffer.concat([Buffer.from([0xed, 0xab, 0xee, 0xdb, 3, 0]), Buffer.alloc(200, 0x41)]);
        default:
          return rpm;
      }
    });
}

let gzipBomb: Buffer | undefined;

/** Extra metadata bodies: XML with entities and DOCTYPEs, compressed or not, random compression magic. */
function extraBody(compressed: () => Buffer[]) {
  const magic = fc.constantFrom(
    Buffer.from([0x1f, 0x8b]),
    Buffer.from([0x1f, 0x8b, 0x08, 0x00]),
    Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]),
    Buffer.from("BZh9"),
    Buffer.from([0x28, 0xb5, 0x2f, 0xfd]),
    Buffer.from([0xef, 0xbb, 0xbf]),
    Buffer.from([0xff, 0xfe]),
  );
  const xml = fc.constantFrom(...Object.values(xmlBodies)).map((t) => Buffer.from(t));
  return fc.oneof(
    xml,
    xml.map((b) => gzipSync(b)),
    fc.record({ xml, cut: fc.nat() }).map(({ xml, cut }) => {
      const gz = gzipSync(xml);
      return gz.subarray(0, Math.max(1, cut % gz.length));
    }),
    fc.nat().map((i) => compressed()[i % compressed().length]!),
    fc.record({ i: fc.nat(), cut: fc.nat() }).map(({ i, cut }) => {
      const body = compressed()[i % compressed().length]!;
      return body.subarray(0, Math.max(1, cut % body.length));
    }),
    fc
      .record({ magic, rest: fc.uint8Array({ maxLength: 2048 }) })
      .map(({ magic, rest }) => Buffer.concat([magic, Buffer.from(rest)])),
    // A small gzip bomb: 64 MiB of zeros in ~64 KiB.
    fc.constant(null).map(() => {
      gzipBomb ??= gzipSync(Buffer.alloc(64 * 1024 ** 2), { level: 9 });
      return gzipBomb;
    }),
    xml.map((b) => Buffer.concat([Buffer.from(b.toString("utf8"), "utf16le")])),
    fc.uint8Array({ maxLength: 4096 }).map((b) => Buffer.from(b)),
    fc.string({ unit: "binary", maxLength: 2000 }).map((s) => Buffer.from(s)),
  );
}

/** JSON of the wrong shapes: any value, objects with Beskar's field names holding anything. */
const anyValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(
    "x".repeat(1_000_000),
    "é".repeat(10_000),
    -1,
    1e308,
    Number.MAX_SAFE_INTEGER,
    "",
    "artifacts/yum/",
    "artifacts/yum/../../etc",
    `artifacts/yum/${"a".repeat(300)}`,
    "0 0 * * * * *",
    "http://127.0.0.1:9/",
    "file:///etc/passwd",
    "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxx\n-----END PGP PUBLIC KEY BLOCK-----",
  ),
);
const fieldNames = [
  "repository",
  "properties",
  "id",
  "tag",
  "delete_packages",
  "mirror_url",
  "page",
  "force",
  "__proto__",
  "constructor",
];
const propertyNames = [
  "mirror",
  "mirror_urls",
  "gpg_key",
  "sync_schedule",
  "sync_policy",
  "metalink",
  "mirrorlist",
  "proxy_url",
  "tls_ca",
  "tls_cert",
  "tls_key",
  "unknown",
];
const repositoryValue = fc.oneof(fc.constantFrom(seed, other), repositoryPart, anyValue);
const properties = fc.dictionary(fc.constantFrom(...propertyNames), anyValue, { maxKeys: 5 });
const adminObject = fc
  .record(
    {
      repository: repositoryValue,
      properties: fc.oneof(properties, anyValue),
      extra: fc.dictionary(fc.constantFrom(...fieldNames), anyValue, { maxKeys: 4 }),
    },
    { requiredKeys: [] },
  )
  .map(({ extra, ...known }) => ({ ...extra, ...known }));
const adminBody = fc.oneof(
  { weight: 6, arbitrary: adminObject.map((o) => Buffer.from(JSON.stringify(o))) },
  { weight: 2, arbitrary: fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? "null")) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(
        "{",
        '{"repository": "artifacts/yum/fuzz-seed",}',
        "[1,2",
        "\u0000",
        '{"a":'.repeat(5000),
        "x".repeat(3 * 1024 * 1024),
      )
      .map((s) => Buffer.from(s)),
  },
  { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
);
/** Every admin route (method and path), as apps/api/src/routes/admin-routes.ts declares them. */
const adminRoutes: [string, string][] = [
  ["GET", "/doc/swagger.yaml"],
  ["GET", "/repository:list"],
  ["POST", "/repository"],
  ["PUT", "/repository"],
  ["GET", "/repository"],
  ["DELETE", "/repository"],
  ["GET", "/repository/package"],
  ["GET", "/repository/package:bytag"],
  ["GET", "/repository/package:list"],
  ["DELETE", "/repository/package"],
  ["DELETE", "/repository/package:bytag"],
  ["GET", "/repository/logs"],
  ["GET", "/repository/sync"],
  ["GET", "/repository/sync:url"],
  ["GET", "/repository/sync:status"],
];
const adminPaths = [...new Set(adminRoutes.map(([, path]) => path))];

/** Printed short in a counterexample (bodies are up to megabytes). */
const printable = (r: FuzzRequest): FuzzRequest =>
  Object.assign(r, { [fc.toStringMethod]: () => describeRequest(r) });

function fuzzRequest(rpms: () => Buffer[], compressed: () => Buffer[], token: () => string) {
  const auth = fc
    .oneof(
      { weight: 12, arbitrary: fc.constant("good") },
      { weight: 1, arbitrary: fc.constantFrom("none", "wrong", "basic") },
    )
    .map((kind): Record<string, string> => {
      if (kind === "good") return { authorization: `Bearer ${token()}` };
      if (kind === "wrong") return { authorization: "Bearer not-the-token-but-long-enough-to-be-one" };
      if (kind === "basic") return { authorization: "Basic YmVza2FyOmJlc2thcg==" };
      return {};
    });
  const contentType = fc.constantFrom(
    "application/json",
    "application/json",
    "text/plain",
    "application/x-rpm",
    "application/json; charset=utf-16",
    "multipart/form-data; boundary=x",
    "application/x-www-form-urlencoded",
    "",
  );

  const upload = fc
    .record({
      repository: repositoryPart,
      folder: fc.oneof(fc.constantFrom("Packages", "Packages/b", "", "repodata", "a/b/c"), oddSegment),
      file: fc.oneof(
        fc.constantFrom("booth-debugsource-1.0-6.ac1d34c.git.el8.2.x86_64.rpm", "foo.rpm", ".rpm", "..rpm"),
        oddSegment.map((s) => `${s}.rpm`),
      ),
      query: fc.constantFrom("", "", "?wait=false", "?x=%zz", "?wait=maybe"),
      body: mutatedRpm(rpms),
      auth,
    })
    .map(
      (u): FuzzRequest => ({
        kind: "upload",
        method: "PUT",
        path: `/${u.repository}/repo/${u.folder ? `${u.folder}/` : ""}${u.file}${u.query}`,
        headers: { ...u.auth, "content-type": "application/x-rpm" },
        body: u.body,
        touchesSeed: u.repository === seed,
      }),
    );

  const extra = fc
    .record({
      repository: fc.oneof(
        { weight: 2, arbitrary: fc.constant(seed) },
        { weight: 1, arbitrary: repositoryPart },
      ),
      type: fc.oneof(
        fc.constantFrom(
          "group",
          "updateinfo",
          "modules",
          "prestodelta",
          "custom",
          "primary",
          "other_db",
          "Group",
        ),
        oddSegment,
      ),
      filename: fc.oneof(
        fc.constant(undefined),
        fc.constantFrom(
          "updateinfo.txt",
          "comps.xml",
          "modules.yaml.gz",
          "../repomd.xml",
          "a%2fb.xml",
          "x".repeat(300),
        ),
        oddSegment,
      ),
      method: fc.constantFrom("PUT", "PUT", "PUT", "DELETE", "GET", "POST"),
      body: extraBody(compressed),
      auth,
    })
    .map((e): FuzzRequest => {
      const query = e.filename === undefined ? "" : `?filename=${encodeURIComponent(e.filename)}`;
      return {
        kind: "extra",
        method: e.method,
        path: `/${e.repository}/repo/repodata/extra/${e.type}${query}`,
        headers: { ...e.auth, "content-type": "application/octet-stream" },
        ...(e.method === "PUT" || e.method === "POST" ? { body: e.body } : {}),
        touchesSeed: e.repository === seed,
      };
    });

  const admin = fc
    .record({
      route: fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...adminRoutes) },
        {
          weight: 1,
          arbitrary: fc.tuple(
            fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"),
            fc.constant(""),
          ),
        },
      ),
      path: fc.oneof(
        { weight: 8, arbitrary: fc.constantFrom(...adminPaths) },
        { weight: 1, arbitrary: oddSegment.map((s) => `/repository/${s}`) },
        {
          weight: 1,
          arbitrary: fc.constantFrom(
            "/repository::list",
            "/repository:",
            "/",
            "/../healthz",
            "/repository/package:list/..",
          ),
        },
      ),
      query: fc.oneof(
        fc.constant(""),
        fc.constantFrom(
          `?repository=${seed}`,
          "?repository=artifacts%2Fyum%2Ffuzz-other",
          "?repository=%zz",
          "?page=-1",
          "?page[size]=9999999",
          "?page.size=abc&page.token=%00",
          "?repository=a&repository=b",
          "?delete_packages=true&repository=artifacts/yum/fz-none",
        ),
      ),
      body: adminBody,
      contentType,
      auth,
    })
    .map((a): FuzzRequest => {
      const method = a.route[0];
      const path = a.route[1] || a.path;
      let body = a.body;
      const text = body.toString("utf8");
      const syncs = path === "/repository/sync" || path === "/repository/sync:url";
      const deletesRepository = method === "DELETE" && path === "/repository";
      // Kept out: a sync that waits for an upstream (Beskar answers a failed sync with wait 500
      // SYNC_FAILED by design), and deleting the seeded repository (it is what is watched).
      if (syncs && /"wait"/.test(text)) body = Buffer.from(text.replace(/"wait"/g, '"nowait"'));
      if (deletesRepository && text.includes("fuzz-seed"))
        body = Buffer.from(text.replaceAll("fuzz-seed", "fz-seed2"));
      const query = deletesRepository ? a.query.replaceAll("fuzz-seed", "fz-seed2") : a.query;
      const mutates = method !== "GET" && method !== "HEAD";
      return {
        kind: "admin",
        method: method,
        path: `${api}${path}${query}`,
        headers: { ...a.auth, ...(a.contentType ? { "content-type": a.contentType } : {}) },
        ...(method === "HEAD" ? {} : { body }),
        touchesSeed: mutates && (body.includes("fuzz-seed") || query.includes("fuzz-seed")),
      };
    });

  return fc
    .oneof({ weight: 3, arbitrary: upload }, { weight: 3, arbitrary: extra }, { weight: 4, arbitrary: admin })
    .map(printable);
}
