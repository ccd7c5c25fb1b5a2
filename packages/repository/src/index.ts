export { applyStoredEvent, buildPackageRecord } from "./event-applier.js";
export { FrontTree, RepositoryFront } from "./front-tree.js";
export { collectBlobGarbage, collectRepodataGarbage } from "./garbage-collector.js";
export {
  formatTime,
  packageHref,
  packageTag,
  type RepositoryPackageView,
  toPackageView,
} from "./package-view.js";
export {
  type ListKind,
  type Page,
  type PageLimits,
  type PageRequest,
  pageLimits,
  readPage,
} from "./pagination.js";
export { hasPendingWork, recheckPendingWork } from "./pending-work.js";
export {
  needsSignature,
  type PublishOptions,
  type PublishResult,
  publishRepodata,
  repodataSharer,
  resignRepodata,
  writeRepomdCopy,
} from "./publisher.js";
export { type RegistryHoldings, registryHoldings } from "./registry-holdings.js";
export {
  deleteTombstonedManifests,
  type RegistryReplicaOptions,
  replicateToRegistry,
} from "./registry-replica.js";
export {
  type RegistryContent,
  type RegistryRestoreOptions,
  type RestoreClient,
  readRegistryContent,
} from "./registry-restore.js";
export {
  type RepositoryKeys,
  repoFileText,
  repomdKeyText,
  repositoryId,
  repositoryKeys,
} from "./repo-file.js";
export {
  assertRepositoryName,
  type ContentPath,
  maxRepositoryNameLength,
  parseContentPath,
} from "./repository-name.js";
export { type ProcessorLog, type ProcessorOptions, processRepository } from "./repository-processor.js";
export { defaultProperties, mergeProperties, propertiesView } from "./repository-properties.js";
export {
  RepositoryService,
  type RepositoryServiceOptions,
  type RepositorySummary,
  type UploadResult,
} from "./repository-service.js";
export { applyRestoreEvent } from "./restore-event.js";
export { ServedRepodata } from "./served-repodata.js";
