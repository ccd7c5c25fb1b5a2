import { readFile } from "node:fs/promises";
import { YumError } from "@beskar-yum/errors";
import { assertRepositoryName, formatTime, readPage } from "@beskar-yum/repository";
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from "fastify";
import type { AppDeps } from "../app-deps.js";
import { requireAdmin } from "../auth.js";
import { clientGone } from "../client-gone.js";
import { requestFields } from "../request-body.js";
import { apiRuntimeFiles, runtimePath } from "../runtime-files.js";

// In fastify route paths a literal ":" is written "::" (a single one starts a parameter).
const base = "/artifacts/yum/api/v1";
const swaggerPath = runtimePath(apiRuntimeFiles.swagger);

function stringField(fields: Record<string, unknown>, name: string): string {
  const value = fields[name];
  if (typeof value !== "string" || value === "")
    throw new YumError("INVALID_ARGUMENT", `${name}: required string`);
  return value;
}

/** `next_page_token` while more items follow (our addition to Beskar's responses), absent on the last page. */
const nextPage = (token: string | undefined) => (token === undefined ? {} : { next_page_token: token });

/** Beskar's YUM admin API v1: same paths, methods and JSON fields (SPEC §5). */
export async function adminRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { service } = deps;
  // No implicit HEAD for these GETs: fastify would run the GET handler for it, and `sync` (and
  // `sync:url`) start a sync. A HEAD here gets 404 and changes nothing.
  const get = (path: string, handler: RouteHandlerMethod) =>
    app.get(path, { exposeHeadRoute: false }, handler);

  /** Authenticates, reads the request fields and validates `repository`. */
  const prepare = async (request: FastifyRequest) => {
    requireAdmin(request, deps.adminToken);
    const fields = await requestFields(request);
    return { fields, repository: assertRepositoryName(fields.repository) };
  };

  get(`${base}/doc/swagger.yaml`, async (_request, reply) =>
    reply.type("application/yaml").send(await readFile(swaggerPath, "utf8")),
  );

  // Our addition (Beskar's API has none): the repositories, a page at a time, for `beskar-yum repo list`.
  get(`${base}/repository::list`, async (request) => {
    requireAdmin(request, deps.adminToken);
    const page = await service.list(readPage(await requestFields(request), "repositories"));
    return { repositories: page.items, ...nextPage(page.nextPageToken) };
  });

  app.post(`${base}/repository`, async (request) => {
    const { fields, repository } = await prepare(request);
    await service.create(repository, fields.properties);
    return {};
  });

  app.put(`${base}/repository`, async (request) => {
    const { fields, repository } = await prepare(request);
    await service.update(repository, fields.properties);
    return {};
  });

  get(`${base}/repository`, async (request) => {
    const { repository } = await prepare(request);
    return service.get(repository);
  });

  app.delete(`${base}/repository`, async (request) => {
    const { fields, repository } = await prepare(request);
    await service.delete(repository, fields.delete_packages === true);
    return {};
  });

  get(`${base}/repository/package`, async (request) => {
    const { fields, repository } = await prepare(request);
    return { repository_packages: await service.getPackage(repository, { id: stringField(fields, "id") }) };
  });

  get(`${base}/repository/package::bytag`, async (request) => {
    const { fields, repository } = await prepare(request);
    return { repository_packages: await service.getPackage(repository, { tag: stringField(fields, "tag") }) };
  });

  get(`${base}/repository/package::list`, async (request) => {
    const { fields, repository } = await prepare(request);
    const page = await service.listPackages(repository, readPage(fields, "packages"));
    // Beskar returns null for an empty list (a nil Go slice).
    return {
      repository_packages: page.items.length > 0 ? page.items : null,
      ...nextPage(page.nextPageToken),
    };
  });

  /**
   * `wait` (our extension, as for uploads): answer once the published repodata no longer lists the
   * package, rather than once the index no longer has it. A client that leaves stops the wait only.
   */
  const removePackage = async (
    request: FastifyRequest,
    reply: FastifyReply,
    by: (fields: Record<string, unknown>) => { id: string } | { tag: string },
  ) => {
    const { fields, repository } = await prepare(request);
    const wait = fields.wait === true;
    const signal = wait ? clientGone(reply) : undefined;
    try {
      await service.removePackage(repository, by(fields), {
        until: wait ? "published" : "applied",
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      if (!signal?.aborted) throw err;
      request.log.info({ repository }, "package removal wait ended: the client disconnected");
      return reply.hijack();
    }
    return {};
  };

  app.delete(`${base}/repository/package`, (request, reply) =>
    removePackage(request, reply, (fields) => ({ id: stringField(fields, "id") })),
  );

  app.delete(`${base}/repository/package::bytag`, (request, reply) =>
    removePackage(request, reply, (fields) => ({ tag: stringField(fields, "tag") })),
  );

  get(`${base}/repository/logs`, async (request) => {
    const { fields, repository } = await prepare(request);
    const page = await service.logs(repository, readPage(fields, "logs"));
    return {
      logs: page.items.map((l) => ({ level: l.level, date: formatTime(l.date), message: l.message })),
      ...nextPage(page.nextPageToken),
    };
  });

  /**
   * Our addition: rebuilds a repository this node has no index for from the registry replica
   * (`beskar-yum restore`). 202 once recorded; with `wait`, 200 once the restored repository is
   * published (504 after `upload.wait_timeout_ms`: the restore goes on).
   */
  app.post(`${base}/repository/restore`, async (request, reply) => {
    const { fields, repository } = await prepare(request);
    const seq = await service.restore(repository, fields.properties);
    if (fields.wait !== true) return reply.code(202).send({});
    const signal = clientGone(reply);
    try {
      await service.waitFor(repository, seq, "published", signal);
    } catch (err) {
      if (!signal.aborted) throw err;
      request.log.info({ repository }, "restore wait ended: the client disconnected (the restore goes on)");
      return reply.hijack();
    }
    return reply.code(200).send({});
  });

  /**
   * Starts a sync; with `wait`, answers when it ends, 504 at `sync.wait_timeout_ms`, and stops
   * waiting (the sync goes on) as soon as the client disconnects.
   */
  const startSync = async (
    request: FastifyRequest,
    reply: FastifyReply,
    repository: string,
    options: { url?: string; wait: boolean; force: boolean },
  ) => {
    const signal = options.wait ? clientGone(reply) : undefined;
    try {
      await service.startSync(repository, { ...options, ...(signal ? { signal } : {}) });
    } catch (err) {
      if (!signal?.aborted) throw err;
      request.log.info({ repository }, "sync wait ended: the client disconnected (the sync goes on)");
      // Nobody to answer: the connection is gone.
      return reply.hijack();
    }
    return {};
  };

  get(`${base}/repository/sync`, async (request, reply) => {
    const { fields, repository } = await prepare(request);
    // `force` (our extension): accept an upstream older than what is served.
    return startSync(request, reply, repository, {
      wait: fields.wait === true,
      force: fields.force === true,
    });
  });

  get(`${base}/repository/sync::url`, async (request, reply) => {
    const { fields, repository } = await prepare(request);
    return startSync(request, reply, repository, {
      url: stringField(fields, "mirror_url"),
      wait: fields.wait === true,
      force: fields.force === true,
    });
  });

  get(`${base}/repository/sync::status`, async (request) => {
    const { repository } = await prepare(request);
    return { sync_status: await service.syncStatus(repository) };
  });
}
