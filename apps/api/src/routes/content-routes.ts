import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { basename } from "node:path";
import { Readable } from "node:stream";
import { YumError } from "@beskar-yum/errors";
import { OnDemandFetcher, upstreamProxy, upstreamTls } from "@beskar-yum/mirror";
import {
  assertRepositoryName,
  type ContentPath,
  parseContentPath,
  repomdKeyText,
  repositoryKeys,
} from "@beskar-yum/repository";
import type { FastifyInstance } from "fastify";
import type { AppDeps } from "../app-deps.js";
import { requireAdmin } from "../auth.js";
import { clientGone } from "../client-gone.js";
import { lookupPackage, requestedHref } from "../package-lookup.js";
import { type Content, cacheControl, contentTypeOf, etagOf, sendContent } from "../send-content.js";
import { clientFileContent, clientFileOf, textContent } from "./client-files.js";

const safeFileName = /^[A-Za-z0-9][A-Za-z0-9._+~^-]*$/;

/** The content path of a request URL (query left out), its repository name checked (400 when invalid). */
function contentPath(url: string): ContentPath | undefined {
  const path = parseContentPath(url.split("?")[0]!);
  if (path) assertRepositoryName(path.repository);
  return path;
}

/** A blob's URL in the registry (`storage.registry.redirect`), in Beskar's layout repository of `kind`. */
function registryBlobUrl(base: string, repository: string, kind: "packages" | "repodata", digest: string) {
  return new URL(`/v2/${repository}/${kind}/blobs/sha256:${digest}`, base).href;
}

/** What dnf reads (repodata and packages, anonymous) and what release tooling writes (PUT of RPMs). */
export async function contentRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  // Uploads are streamed by the handler itself, whatever their content type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", (_request, _payload, done) => done(null));
  // on_demand packages being fetched: concurrent requests for one share its download.
  const onDemand = new OnDemandFetcher();
  const sendOptions = deps.accelRedirect ? { accelRedirect: deps.accelRedirect } : {};

  app.get("/artifacts/yum/*", async (request, reply) => {
    // `<name>.repo` and `RPM-GPG-KEY`, beside dnf's `repo/` tree.
    const clientFile = clientFileOf(request.url);
    if (clientFile) {
      const index = await deps.storage.openIndex(clientFile.repository);
      if (!index || !(await index.getRepository()))
        throw new YumError("REPO_NOT_FOUND", `repository ${clientFile.repository} not found`);
      const content = await clientFileContent(request, deps, clientFile, index);
      if (clientFile.file === "repo") reply.header("vary", "x-forwarded-host, x-forwarded-proto");
      return sendContent(request, reply, content);
    }
    const path = contentPath(request.url);
    if (!path || path.kind === "extra") throw new YumError("NOT_FOUND", `no such path: ${request.url}`);
    const index = await deps.storage.openIndex(path.repository);
    const repo = await index?.getRepository();
    if (!index || !repo) throw new YumError("REPO_NOT_FOUND", `repository ${path.repository} not found`);

    let content: Content;
    if (path.kind === "repodata") {
      if (path.file === "repomd.xml") {
        const state = await index.getState();
        if (!state.repomd)
          throw new YumError("NOT_FOUND", `${path.repository} has no published repodata yet`);
        content = textContent(state.repomd, "application/xml", new Date(state.revision * 1000));
      } else if (path.file === "repomd.xml.asc") {
        // Ours (made at publish) or, for a mirror serving upstream's repomd.xml verbatim, upstream's
        // (dnf's repo_gpgcheck); it lives in the index beside repomd.xml, switched in the same transaction.
        const state = await index.getState();
        if (!state.repomd || state.repomdAsc === undefined)
          throw new YumError("NOT_FOUND", `${path.repository} serves no repomd.xml signature`);
        content = textContent(state.repomdAsc, "application/pgp-signature", new Date(state.revision * 1000));
      } else if (path.file === "repomd.xml.key") {
        // The key that signed the repomd.xml served: ours, or upstream's (the mirror's gpg_key).
        const key = await repomdKeyText(
          index,
          deps.signer,
          await repositoryKeys(path.repository, index, deps.signer),
        );
        if (key === undefined)
          throw new YumError(
            "NOT_FOUND",
            `${path.repository} serves no repomd.xml signature that a key of ours checks`,
          );
        content = textContent(key, "application/pgp-keys");
      } else {
        // Only a file the published repomd.xml lists (or one superseded within the grace period):
        // never just any file that happens to be in the folder.
        const file = safeFileName.test(path.file)
          ? await deps.service.servedRepodataPath(path.repository, index, path.file)
          : undefined;
        if (!file) throw new YumError("NOT_FOUND", `no such repodata file: ${path.file}`);
        const digest = /^([0-9a-f]{64})-/.exec(path.file)?.[1];
        if (deps.registryRedirect && digest)
          return reply.redirect(
            registryBlobUrl(deps.registryRedirect, path.repository, "repodata", digest),
            301,
          );
        // storage.driver: registry: published by another node, fetched from the registry once.
        if (!(await stat(file).catch(() => undefined))?.isFile())
          await deps.service.fetchRepodataFile(path.repository, file);
        const info = await stat(file).catch(() => undefined);
        if (!info?.isFile()) throw new YumError("NOT_FOUND", `no such repodata file: ${path.file}`);
        content = {
          size: info.size,
          mtime: info.mtime,
          etag: etagOf(path.file.split("-")[0]!),
          contentType: contentTypeOf(path.file),
          cacheControl: cacheControl.immutable,
          file,
          open: (range) => createReadStream(file, range),
        };
      }
    } else {
      const blobs = deps.storage.blobs(path.repository);
      /** A stored package blob, served with its digest as ETag. */
      const packageContent = (id: string, size: number, mtime: Date): Content => ({
        size,
        mtime,
        etag: etagOf(id),
        contentType: contentTypeOf(path.file),
        cacheControl: cacheControl.package,
        file: blobs.pathOf(id),
        open: (range) => blobs.createReadStream(id, range),
      });
      // By href first (a mirror's packages of one file name in two folders), then by file name.
      const found = await lookupPackage(
        index,
        requestedHref(request.url, path.repository),
        basename(path.file),
      );
      const record = found && "record" in found ? found.record : undefined;
      if (!record) {
        // Removed or replaced, but clients on the previous repodata generation may still ask for it.
        const retired = found && "retired" in found ? found.retired : undefined;
        // storage.driver: registry: stored by another node, in the registry.
        if (retired) await deps.storage.localBlob(path.repository, "packages", { digest: retired.id });
        const info = retired && (await stat(blobs.pathOf(retired.id)).catch(() => undefined));
        if (!retired || !info)
          throw new YumError("NOT_FOUND", `package ${path.file} not found in ${path.repository}`);
        return sendContent(request, reply, packageContent(retired.id, info.size, info.mtime), sendOptions);
      }
      const { properties } = repo;
      // Every package but an on_demand mirror's is in the registry (stored there before indexed).
      if (deps.registryRedirect && !(properties.mirror && properties.sync_policy === "on_demand"))
        return reply.redirect(
          registryBlobUrl(deps.registryRedirect, path.repository, "packages", record.id),
          301,
        );
      const info = await stat(blobs.pathOf(record.id)).catch(() => undefined);
      if (!info) {
        // A restored package (`beskar-yum restore` reads headers only) is in the registry replica
        // under the manifest recorded for it: fetched from there on its first request and stored.
        const layer = `sha256:${record.id}`;
        const { registry } = deps;
        // With storage.driver: registry, the registry is where every stored package is.
        const inRegistry =
          registry &&
          ((await index.registry.get("packages", record.tag))?.layerDigest === layer ||
            (await deps.storage.registry?.has(path.repository, "packages", record.id)));
        if (!properties.mirror && !inRegistry) {
          throw new YumError("STORAGE_CORRUPT", `package ${path.file}: blob sha256:${record.id} is missing`);
        }
        // A mirror package not fetched yet (sync_policy on_demand, or lost): fetch it from upstream now.
        // HEAD answers from the metadata; an empty stream keeps our Content-Length (a buffer would reset it).
        const body =
          request.method === "HEAD"
            ? Readable.from([])
            : await onDemand.open(record, blobs, {
                urls: properties.mirror_urls,
                log: (message) => request.log.warn({ repository: path.repository }, message),
                tls: upstreamTls(properties),
                ...(deps.syncTimeoutMs ? { timeoutMs: deps.syncTimeoutMs } : {}),
                client: { proxy: upstreamProxy(properties, deps.proxy) },
                ...(deps.storage.registry && !inRegistry
                  ? {
                      stored: () =>
                        deps.storage.share(path.repository, "packages", {
                          digest: record.id,
                          size: record.fileSize,
                        }),
                    }
                  : {}),
                ...(inRegistry
                  ? {
                      open: () =>
                        deps.storage.registry
                          ? deps.storage.registry.open(path.repository, "packages", {
                              digest: record.id,
                              size: record.fileSize,
                            })
                          : registry.openBlob(`${path.repository}/packages`, {
                              digest: layer,
                              size: record.fileSize,
                            }),
                    }
                  : {}),
              });
        // Headers only once upstream answered: a failure is sent as an error, not as a short package.
        return reply
          .header("content-type", contentTypeOf(path.file))
          .header("content-length", record.fileSize)
          .header("etag", etagOf(record.id))
          .header("cache-control", cacheControl.package)
          .send(body);
      }
      content = packageContent(record.id, info.size, new Date(record.uploadTime * 1000));
    }
    return sendContent(request, reply, content, sendOptions);
  });

  app.put("/artifacts/yum/*", async (request, reply) => {
    /** 202 at once, or with `?wait=true` 201 once the change is in the published repodata. */
    const accepted = async <T extends { seq: number }>(repository: string, result: T, wait: boolean) => {
      const { seq, ...body } = result;
      if (!wait) return reply.code(202).send(body);
      const signal = clientGone(reply);
      try {
        await deps.service.waitFor(repository, seq, "published", signal);
      } catch (err) {
        if (!signal.aborted) throw err;
        // Stored and queued: it is published all the same, there is just nobody left to tell.
        request.log.info({ repository, seq }, "upload wait ended: the client disconnected");
        return reply.hijack();
      }
      return reply.code(201).send(body);
    };
    requireAdmin(request, deps.adminToken);
    const path = contentPath(request.url);
    const query = request.query as Record<string, string | undefined>;
    if (path?.kind === "extra") {
      const result = await deps.service.putExtraMetadata(
        path.repository,
        path.dataType,
        query.filename,
        request.raw,
      );
      return accepted(path.repository, result, query.wait === "true");
    }
    if (path?.kind !== "package") {
      throw new YumError(
        "NOT_FOUND",
        `uploads go to /artifacts/yum/<name>/repo/Packages/<file>.rpm or .../repo/repodata/extra/<type>, not ${request.url}`,
      );
    }
    let result: Awaited<ReturnType<typeof deps.service.upload>>;
    try {
      result = await deps.service.upload(path.repository, path.file, request.raw);
    } catch (err) {
      deps.metrics.uploads.inc({ outcome: err instanceof YumError ? err.code : "error" });
      // A refused upload may leave unread bytes: close the connection rather than read gigabytes.
      if (!request.raw.readableEnded) reply.header("connection", "close");
      throw err;
    }
    deps.metrics.uploads.inc({ outcome: "accepted" });
    request.log.info({ repository: path.repository, id: result.id, file: path.file }, "package uploaded");
    return accepted(path.repository, result, query.wait === "true");
  });

  app.delete("/artifacts/yum/*", async (request, reply) => {
    requireAdmin(request, deps.adminToken);
    const path = contentPath(request.url);
    if (path?.kind !== "extra") throw new YumError("NOT_FOUND", `no such path: ${request.url}`);
    await deps.service.deleteExtraMetadata(path.repository, path.dataType);
    return reply.code(200).send({});
  });
}
