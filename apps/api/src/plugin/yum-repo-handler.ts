import { YumError } from "@beskar-yum/errors";
import {
  artifactLayer,
  EXTRA_CONFIG_MEDIATYPE,
  EXTRA_LAYER_MEDIATYPE_PREFIX,
  type OciManifest,
  PACKAGE_CONFIG_MEDIATYPE,
  PACKAGE_LAYER_MEDIATYPE,
  parseOciManifest,
} from "@beskar-yum/oci";
import {
  Action,
  actionName,
  type BeskarTransport,
  type EventPayload,
  type HandlerContext,
  Origin,
} from "@beskar-yum/plugin-sdk";
import { assertRepositoryName, packageTag, type RepositoryService } from "@beskar-yum/repository";
import type { RepositoryStorage } from "@beskar-yum/storage";
import { beskarRegistry } from "./beskar-registry.js";
import type { PluginEventStore } from "./plugin-event-store.js";
import { StoredEventHandler } from "./stored-event-handler.js";

/** Beskar's refusal of a non-plugin event for a mirror repository (yumrepository/handler.go). */
export const MIRROR_REFUSAL = "operation not supported for repository configured as mirror";

export interface YumRepoHandlerOptions {
  service: RepositoryService;
  storage: RepositoryStorage;
  /** The transport to Beskar's registry; undefined until the service has started. */
  transport: () => BeskarTransport | undefined;
  /** Where events are kept until processed (replayed at start); without it they are not stored. */
  events?: PluginEventStore;
}

/**
 * The yum plugin's handler of one repository (`artifacts/yum/<name>`): turns Beskar's events into the
 * same repository events uploads produce. PUT of a package manifest → the RPM layer is streamed from
 * Beskar's registry into `RepositoryService.upload`; DELETE → the package of the layer's title is
 * removed. Extra metadata manifests likewise. Events are processed in order; an error is logged, written
 * to the repository log and (as Beskar does) the manifest is deleted from the registry.
 */
export class YumRepoHandler extends StoredEventHandler {
  constructor(
    context: HandlerContext,
    private readonly options: YumRepoHandlerOptions,
  ) {
    super(context);
  }

  protected get events(): PluginEventStore | undefined {
    return this.options.events;
  }

  override async queueEvent(event: EventPayload, store: boolean): Promise<void> {
    const repo = await (await this.options.storage.openIndex(this.repository))?.getRepository();
    if (repo?.properties.mirror && event.origin !== Origin.PLUGIN) throw new Error(MIRROR_REFUSAL);
    await super.queueEvent(event, store);
  }

  protected async processEvent(event: EventPayload, signal: AbortSignal): Promise<void> {
    assertRepositoryName(this.repository);
    const repo = await (await this.options.storage.openIndex(this.repository))?.getRepository();
    if (repo?.properties.mirror) {
      // Beskar's echo of our own push to a mirror: our mirror sync stores directly, nothing to do.
      this.logger.debug({ digest: event.digest }, "plugin event for a mirror repository ignored");
      return;
    }
    const manifest = parseOciManifest(event.payload);
    const mediatype = manifest.config?.mediaType ?? event.mediatype;
    if (event.action === Action.PUT && mediatype === PACKAGE_CONFIG_MEDIATYPE) {
      await this.putPackage(event, manifest, signal);
    } else if (event.action === Action.DELETE && mediatype === PACKAGE_CONFIG_MEDIATYPE) {
      const { title, digest } = artifactLayer(manifest, PACKAGE_LAYER_MEDIATYPE);
      const current = await (await this.options.storage.openIndex(this.repository))?.getPackageByTag(
        packageTag(title),
      );
      if (current && `sha256:${current.id}` !== digest) {
        // The delete of a manifest replaced since (e.g. our replica deleting the old one): not this package.
        this.logger.info({ file: title, digest }, "delete of a replaced package manifest ignored");
        return;
      }
      try {
        await this.options.service.removePackage(this.repository, { tag: packageTag(title) });
        this.logger.info({ file: title }, "package removed");
      } catch (err) {
        // The echo of a manifest deleted after a failed PUT, or a repeated delete: nothing to remove.
        if (!(err instanceof YumError && (err.code === "PACKAGE_NOT_FOUND" || err.code === "REPO_NOT_FOUND")))
          throw err;
        this.logger.info({ file: title }, "package to remove not found");
      }
    } else if (event.action === Action.PUT && mediatype === EXTRA_CONFIG_MEDIATYPE) {
      const layer = artifactLayer(manifest, EXTRA_LAYER_MEDIATYPE_PREFIX);
      const dataType = layer.mediaType.slice(EXTRA_LAYER_MEDIATYPE_PREFIX.length);
      const body = await this.download(event, layer, signal);
      await this.options.service.putExtraMetadata(this.repository, dataType, layer.title, body);
      this.logger.info({ type: dataType, file: layer.title }, "extra metadata queued");
    } else if (event.action === Action.DELETE && mediatype === EXTRA_CONFIG_MEDIATYPE) {
      const layer = artifactLayer(manifest, EXTRA_LAYER_MEDIATYPE_PREFIX);
      const dataType = layer.mediaType.slice(EXTRA_LAYER_MEDIATYPE_PREFIX.length);
      await this.options.service.deleteExtraMetadata(this.repository, dataType);
      this.logger.info({ type: dataType }, "extra metadata removed");
    } else {
      this.logger.warn(
        { action: actionName(event.action), mediatype, digest: event.digest },
        "event ignored: not a package or extra metadata manifest",
      );
    }
  }

  private async putPackage(event: EventPayload, manifest: OciManifest, signal: AbortSignal): Promise<void> {
    const layer = artifactLayer(manifest, PACKAGE_LAYER_MEDIATYPE);
    const current = await (await this.options.storage.openIndex(this.repository))?.getPackageByTag(
      packageTag(layer.title),
    );
    if (current && `sha256:${current.id}` === layer.digest) {
      // Beskar's echo of our own push (or a repeated push): the package is there already.
      this.logger.debug({ file: layer.title }, "package manifest for a package we have: nothing to do");
      return;
    }
    const body = await this.download(event, layer, signal);
    const result = await this.options.service.upload(this.repository, layer.title, body);
    // Beskar's registry holds this manifest for the package: our replica (PluginReplica) pushes no other.
    await (await this.options.storage.openIndex(this.repository))?.registry.put({
      kind: "packages",
      tag: result.tag,
      layerDigest: layer.digest,
      manifestDigest: event.digest,
    });
    this.logger.info({ file: layer.title, id: result.id, tag: result.tag }, "package queued");
  }

  private async download(event: EventPayload, layer: { digest: string; size: number }, signal: AbortSignal) {
    const transport = this.options.transport();
    if (!transport) throw new Error("no transport to Beskar's registry yet");
    return beskarRegistry(transport).openBlob(
      event.repository,
      { digest: layer.digest, size: typeof layer.size === "number" ? layer.size : undefined },
      { signal },
    );
  }

  /** Beskar's processing error path: log, repository log, and the manifest deleted from the registry. */
  protected async fail(event: EventPayload, err: unknown): Promise<void> {
    const message = `${actionName(event.action)} ${event.repository}@${event.digest}: ${(err as Error)?.message ?? String(err)}`;
    this.logger.error({ digest: event.digest, err: (err as Error)?.message ?? String(err) }, "event failed");
    try {
      await (await this.options.storage.openIndex(this.repository))?.addLog(
        "ERROR",
        message,
        Math.floor(Date.now() / 1000),
      );
    } catch (logErr) {
      this.logger.warn({ err: (logErr as Error).message }, "cannot write the repository log");
    }
    const transport = this.options.transport();
    if (event.action !== Action.PUT || !transport || !event.digest) return;
    try {
      await beskarRegistry(transport).deleteManifest(event.repository, event.digest, {
        signal: AbortSignal.timeout(10_000),
      });
    } catch (deleteErr) {
      this.logger.warn({ err: (deleteErr as Error).message }, "cannot delete the failed manifest");
    }
  }
}
