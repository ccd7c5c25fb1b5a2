import { YumError } from "@beskar-yum/errors";
import { assertRepositoryName, readPage } from "@beskar-yum/repository";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { AppDeps } from "../app-deps.js";
import { type UiAsset, UiAssets } from "../ui-assets.js";
import {
  logPage,
  type PackageFilter,
  type RepositoryFilter,
  repositoryOverviews,
  searchPackages,
} from "../ui-read-model.js";

/**
 * Everything under /ui may only load and reach this origin, and runs no inline script: data shown
 * is text (the modules never parse it as HTML), and this policy stops what a mistake would let in.
 */
const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Packages a search returns at least per page (it returns every match of the steps it read). */
const searchPageWanted = 50;

function optionalString(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined || value === "") return undefined;
  if (typeof value !== "string") throw new YumError("INVALID_ARGUMENT", `${name}: expected one string`);
  return value;
}

const nextPage = (token: string | undefined) => (token === undefined ? {} : { next_page_token: token });

/**
 * The dashboard (README "Dashboard"): its static files and the read-only JSON it polls, which
 * needs no token and shows what ui-read-model.ts picks. Starting a sync goes to the admin API with
 * the token the user typed.
 */
export async function uiRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const assets = new UiAssets();
  const model = { service: deps.service, storage: deps.storage };

  app.addHook("onSend", async (_request, reply, payload) => {
    reply.header("content-security-policy", contentSecurityPolicy);
    reply.header("x-content-type-options", "nosniff");
    reply.header("referrer-policy", "no-referrer");
    return payload;
  });

  const sendAsset = (request: FastifyRequest, reply: FastifyReply, asset: UiAsset | undefined) => {
    if (!asset) throw new YumError("NOT_FOUND", `no dashboard file at ${request.url} (is the build done?)`);
    // Revalidated on every load (a few bytes with 304), so a new build is seen at once.
    reply.header("cache-control", "no-cache").header("etag", asset.etag).type(asset.contentType);
    if (request.headers["if-none-match"] === asset.etag) return reply.code(304).send();
    return reply.send(asset.body);
  };

  for (const path of ["/ui", "/ui/"]) {
    app.get(path, async (request, reply) => sendAsset(request, reply, await assets.page()));
  }
  app.get("/ui/style.css", async (request, reply) => sendAsset(request, reply, await assets.stylesheet()));
  app.get<{ Params: { file: string } }>("/ui/js/:file", async (request, reply) =>
    sendAsset(request, reply, await assets.module(request.params.file)),
  );

  const query = (request: FastifyRequest) => (request.query ?? {}) as Record<string, unknown>;
  const json = (reply: FastifyReply) => reply.header("cache-control", "no-store");

  app.get("/ui/api/repositories", async (request, reply) => {
    const fields = query(request);
    const filter: RepositoryFilter = {};
    const search = optionalString(fields, "search");
    if (search !== undefined) filter.search = search;
    const repository = optionalString(fields, "repository");
    if (repository !== undefined) filter.repository = assertRepositoryName(repository);
    const { repositories, nextPageToken } = await repositoryOverviews(
      model,
      readPage(fields, "repositories"),
      filter,
    );
    json(reply);
    return { repositories, ...nextPage(nextPageToken) };
  });

  app.get("/ui/api/packages", async (request, reply) => {
    const fields = query(request);
    const repository = assertRepositoryName(fields.repository);
    const filter: PackageFilter = {};
    for (const key of ["name", "arch", "search"] as const) {
      const value = optionalString(fields, key);
      if (value !== undefined) filter[key] = value;
    }
    const token = readPage(fields, "packages").token;
    const found = await searchPackages(deps.service, repository, filter, {
      wanted: searchPageWanted,
      ...(token ? { token } : {}),
    });
    json(reply);
    return { packages: found.packages, ...nextPage(found.nextPageToken) };
  });

  app.get("/ui/api/logs", async (request, reply) => {
    const fields = query(request);
    const repository = assertRepositoryName(fields.repository);
    // `last=true`: the last page; `before=true`: the page before `page.token`'s.
    const pageRequest = readPage(fields, "logs");
    const last = fields.last === "true";
    if (last) delete pageRequest.token;
    const page = await logPage(deps.service, repository, pageRequest, last || fields.before === "true");
    json(reply);
    return {
      logs: page.logs,
      ...(page.pageToken !== undefined ? { page_token: page.pageToken } : {}),
      ...nextPage(page.nextPageToken),
    };
  });
}
