import { readFile } from "node:fs/promises";
import { YumError } from "@beskar-yum/errors";
import { assertRepositoryName, formatTime } from "@beskar-yum/repository";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { AppDeps } from "../app-deps.js";
import { requireAdmin } from "../auth.js";
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

/** Beskar's YUM admin API v1: same paths, methods and JSON fields (SPEC §5). */
export async function adminRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const { service } = deps;

  /** Authenticates, reads the request fields and validates `repository`. */
  const prepare = async (request: FastifyRequest) => {
    requireAdmin(request, deps.adminToken);
    const fields = await requestFields(request);
    return { fields, repository: assertRepositoryName(fields.repository) };
  };

  app.get(`${base}/doc/swagger.yaml`, async (_request, reply) =>
    reply.type("application/yaml").send(await readFile(swaggerPath, "utf8")),
  );

  // Our addition (Beskar's API has none): every repository, for `beskar-yum repo list`.
  app.get(`${base}/repository::list`, async (request) => {
    requireAdmin(request, deps.adminToken);
    return { repositories: await service.list() };
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

  app.get(`${base}/repository`, async (request) => {
    const { repository } = await prepare(request);
    return service.get(repository);
  });

  app.delete(`${base}/repository`, async (request) => {
    const { fields, repository } = await prepare(request);
    await service.delete(repository, fields.delete_packages === true);
    return {};
  });

  app.get(`${base}/repository/package`, async (request) => {
    const { fields, repository } = await prepare(request);
    return { repository_packages: service.getPackage(repository, { id: stringField(fields, "id") }) };
  });

  app.get(`${base}/repository/package::bytag`, async (request) => {
    const { fields, repository } = await prepare(request);
    return { repository_packages: service.getPackage(repository, { tag: stringField(fields, "tag") }) };
  });

  app.get(`${base}/repository/package::list`, async (request) => {
    const { repository } = await prepare(request);
    const packages = service.listPackages(repository);
    // Beskar returns null for an empty list (a nil Go slice).
    return { repository_packages: packages.length > 0 ? packages : null };
  });

  app.delete(`${base}/repository/package`, async (request) => {
    const { fields, repository } = await prepare(request);
    await service.removePackage(repository, { id: stringField(fields, "id") });
    return {};
  });

  app.delete(`${base}/repository/package::bytag`, async (request) => {
    const { fields, repository } = await prepare(request);
    await service.removePackage(repository, { tag: stringField(fields, "tag") });
    return {};
  });

  app.get(`${base}/repository/logs`, async (request) => {
    const { repository } = await prepare(request);
    return {
      logs: service
        .logs(repository)
        .map((l) => ({ level: l.level, date: formatTime(l.date), message: l.message })),
    };
  });

  app.get(`${base}/repository/sync`, async (request) => {
    const { fields, repository } = await prepare(request);
    // `force` (our extension): accept an upstream older than what is served.
    await service.startSync(repository, { wait: fields.wait === true, force: fields.force === true });
    return {};
  });

  app.get(`${base}/repository/sync::url`, async (request) => {
    const { fields, repository } = await prepare(request);
    await service.startSync(repository, {
      url: stringField(fields, "mirror_url"),
      wait: fields.wait === true,
      force: fields.force === true,
    });
    return {};
  });

  app.get(`${base}/repository/sync::status`, async (request) => {
    const { repository } = await prepare(request);
    return { sync_status: service.syncStatus(repository) };
  });
}
