import type { Readable } from "node:stream";
import { isYumError } from "@beskar-yum/errors";
import {
  artifactLayer,
  EXTRA_CONFIG_MEDIATYPE,
  EXTRA_LAYER_MEDIATYPE_PREFIX,
  type OciManifest,
  PACKAGE_CONFIG_MEDIATYPE,
  PACKAGE_LAYER_MEDIATYPE,
  parseOciManifest,
  REPOMD_CONFIG_MEDIATYPE,
  type RegistryClient,
} from "@beskar-yum/oci";
import { Action, type EventPayload, type HandlerContext } from "@beskar-yum/plugin-sdk";
import { packageTag, type RepositoryService } from "@beskar-yum/repository";
import type { RegistryKind, RepositoryStorage } from "@beskar-yum/storage";
import type { PluginEventStore } from "../plugin/plugin-event-store.js";
import { StoredEventHandler } from "../plugin/stored-event-handler.js";

export interface RegistryRepoHandlerOptions {
  service: RepositoryService;
  storage: RepositoryStorage;
  client: RegistryClient;
  /** Where notifications wait until processed (replayed at start). */
  events: PluginEventStore;
}

/**
 * Turns the registry's notifications for one repository (`artifacts/yum/<name>`) into the repository
 * events an upload produces, in order, in the background (the API answered the registry already):
 *
 * - a package manifest pushed → its RPM layer streamed from the registry (or from our blob store when
 *   we have that digest) into `RepositoryService.upload`; extra metadata likewise;
 * - our own pushes coming back (a manifest digest we recorded, or a layer the index has under that
 *   tag already) change nothing;
 * - a manifest deleted by digest → the package (or extra metadata) recorded under that digest is
 *   removed; an unknown digest (our own deletes, blob deletes) changes nothing.
 *
 * An upload refused (not an RPM, bad signature) deletes the manifest from the registry, as Beskar does.
 */
export class RegistryRepoHandler extends StoredEventHandler {
  constructor(
    context: HandlerContext,
    private readonly options: RegistryRepoHandlerOptions,
  ) {
    super(context);
  }

  protected get events(): PluginEventStore {
    return this.options.events;
  }

  protected async processEvent(event: EventPayload, signal: AbortSignal): Promise<void> {
    const kind: RegistryKind = event.repository.endsWith("/packages") ? "packages" : "repodata";
    const records = (await this.options.storage.openIndex(this.repository))?.registry;
    const known = await records?.byManifestDigest(kind, event.digest);
    if (event.action === Action.PUT) {
      if (known) {
        this.logger.debug({ digest: event.digest, tag: known.tag }, "our own manifest push: nothing to do");
        return;
      }
      const fetched = await this.options.client.getManifest(event.repository, event.digest, { signal });
      const manifest = parseOciManifest(fetched.bytes);
      const mediatype = manifest.config?.mediaType;
      if (kind === "packages" && mediatype === PACKAGE_CONFIG_MEDIATYPE)
        await this.putPackage(event, manifest, signal);
      else if (kind === "repodata" && mediatype === EXTRA_CONFIG_MEDIATYPE)
        await this.putExtra(event, manifest, signal);
      else if (mediatype === REPOMD_CONFIG_MEDIATYPE)
        this.logger.debug({ digest: event.digest }, "our own repomd.xml push: nothing to do");
      else
        this.logger.info(
          { digest: event.digest, mediatype },
          "registry push ignored: not a package or extra metadata manifest",
        );
    } else if (event.action === Action.DELETE) {
      if (!known) {
        this.logger.debug({ digest: event.digest }, "delete of a manifest we do not track: nothing to do");
        return;
      }
      await this.deleteKnown(kind, known.tag, known.layerDigest);
    }
  }

  private async putPackage(event: EventPayload, manifest: OciManifest, signal: AbortSignal): Promise<void> {
    const layer = artifactLayer(manifest, PACKAGE_LAYER_MEDIATYPE);
    const tag = packageTag(layer.title);
    const index = await this.options.storage.openIndex(this.repository);
    if (index && `sha256:${(await index.getPackageByTag(tag))?.id}` === layer.digest) {
      await index.registry.put(
        { kind: "packages", tag, layerDigest: layer.digest, manifestDigest: event.digest },
        { external: true },
      );
      this.logger.info(
        { file: layer.title, digest: event.digest },
        "registry push of a package we have: recorded",
      );
      return;
    }
    const body = await this.open(event.repository, layer, signal);
    const result = await this.options.service.upload(this.repository, layer.title, body);
    const records = (await this.options.storage.openIndex(this.repository))?.registry;
    const previous = await records?.get("packages", result.tag);
    await records?.put(
      { kind: "packages", tag: result.tag, layerDigest: layer.digest, manifestDigest: event.digest },
      { external: true },
    );
    await this.retire(event, previous?.manifestDigest);
    this.logger.info(
      { file: layer.title, id: result.id, tag: result.tag },
      "package pushed to the registry queued",
    );
  }

  private async putExtra(event: EventPayload, manifest: OciManifest, signal: AbortSignal): Promise<void> {
    const layer = artifactLayer(manifest, EXTRA_LAYER_MEDIATYPE_PREFIX);
    const dataType = layer.mediaType.slice(EXTRA_LAYER_MEDIATYPE_PREFIX.length);
    const index = await this.options.storage.openIndex(this.repository);
    const current = ((await index?.listExtraMetadata()) ?? []).find((r) => r.dataType === dataType);
    if (index && current && `sha256:${current.digest}` === layer.digest) {
      await index.registry.put(
        { kind: "repodata", tag: dataType, layerDigest: layer.digest, manifestDigest: event.digest },
        { external: true },
      );
      return;
    }
    const body = await this.open(event.repository, layer, signal);
    await this.options.service.putExtraMetadata(this.repository, dataType, layer.title, body);
    const records = (await this.options.storage.openIndex(this.repository))?.registry;
    const previous = await records?.get("repodata", dataType);
    await records?.put(
      { kind: "repodata", tag: dataType, layerDigest: layer.digest, manifestDigest: event.digest },
      { external: true },
    );
    await this.retire(event, previous?.manifestDigest);
    this.logger.info({ type: dataType, file: layer.title }, "extra metadata pushed to the registry queued");
  }

  /**
   * Deletes the manifest a push replaced under the same tag (now untagged). Its delete notification
   * then finds no record (the tag records the new digest) and changes nothing.
   */
  private async retire(event: EventPayload, previous: string | undefined): Promise<void> {
    if (!previous || previous === event.digest) return;
    await this.options.client.deleteManifest(event.repository, previous).catch((err: unknown) => {
      this.logger.warn(
        { digest: previous, err: (err as Error).message },
        "cannot delete the replaced manifest",
      );
    });
  }

  private async deleteKnown(kind: RegistryKind, tag: string, layerDigest: string): Promise<void> {
    const index = await this.options.storage.openIndex(this.repository);
    if (!index) return;
    await index.registry.remove(kind, tag, { external: true });
    try {
      if (kind === "packages") {
        if (`sha256:${(await index.getPackageByTag(tag))?.id}` !== layerDigest) return;
        await this.options.service.removePackage(this.repository, { tag });
        this.logger.info({ tag }, "package deleted from the registry removed");
      } else {
        const current = (await index.listExtraMetadata()).find((r) => r.dataType === tag);
        if (!current || `sha256:${current.digest}` !== layerDigest) return;
        await this.options.service.deleteExtraMetadata(this.repository, tag);
        this.logger.info({ type: tag }, "extra metadata deleted from the registry removed");
      }
    } catch (err) {
      if (!isYumError(err, "PACKAGE_NOT_FOUND") && !isYumError(err, "NOT_FOUND")) throw err;
    }
  }

  /** The layer's bytes: from our blob store when we have them (an echo), else verified from the registry. */
  private async open(
    ociRepository: string,
    layer: { digest: string; size: number },
    signal: AbortSignal,
  ): Promise<Readable> {
    const blobs = this.options.storage.blobs(this.repository);
    const hex = layer.digest.slice("sha256:".length);
    if (await blobs.has(hex)) return blobs.createReadStream(hex);
    return this.options.client.openBlob(
      ociRepository,
      { digest: layer.digest, size: typeof layer.size === "number" ? layer.size : undefined },
      { signal },
    );
  }

  protected async fail(event: EventPayload, err: unknown): Promise<void> {
    const message = (err as Error)?.message ?? String(err);
    this.logger.error(
      { digest: event.digest, repository: event.repository, err: message },
      "registry notification failed",
    );
    try {
      await (await this.options.storage.openIndex(this.repository))?.addLog(
        "ERROR",
        `registry ${event.repository}@${event.digest}: ${message}`,
        Math.floor(Date.now() / 1000),
      );
    } catch {
      // the repository may not exist (a refused first push)
    }
    if (event.action !== Action.PUT || !isYumError(err) || err.httpStatus !== 400) return;
    // Refused content (not an RPM, bad signature): the registry should not keep it (Beskar deletes it).
    this.options.client
      .deleteManifest(event.repository, event.digest)
      .catch((deleteErr: unknown) =>
        this.logger.warn({ err: (deleteErr as Error).message }, "cannot delete the refused manifest"),
      );
  }
}
