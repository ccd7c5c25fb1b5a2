export { renderFilelistsPackage } from "./filelists-xml.js";
export { compressMember, type GzipMember, gzipMember, readGzipMembers } from "./gzip-members.js";
export { type PackageHref, rewriteLocationTag } from "./location-tag.js";
export {
  type DecompressOptions,
  decompressMetadataStream,
  type MetadataCompression,
  type MetadataSource,
  sniffCompression,
} from "./metadata-decompress.js";
export { type MetadataKind, metadataFooter, metadataHeader, metadataKinds } from "./metadata-kinds.js";
export { readFilelists, readOther, readPrimary } from "./metadata-readers.js";
export type {
  ChangelogRecord,
  FilelistsRecord,
  OtherRecord,
  PrimaryRecord,
  RecordDependency,
  RecordDependencyKind,
  RecordFile,
  RecordFileType,
  RecordVersion,
} from "./metadata-records.js";
export type { ReadMetadataOptions } from "./metadata-stream.js";
export { renderOtherPackage } from "./other-xml.js";
export {
  fragmentPkgid,
  type PkgidFragment,
  type PrimaryFragment,
  type PrimaryFragmentInfo,
  packageFragments,
  pkgidFragments,
  primaryFragmentInfo,
  primaryFragments,
  visitPrimaryFragments,
} from "./package-fragments.js";
export type { PackageLocation } from "./package-location.js";
export { parseRepomd } from "./parse-repomd.js";
export { primaryFiles, renderPrimaryPackage } from "./primary-xml.js";
export type { Repomd, RepomdChecksum, RepomdDistroTag, RepomdRecord, RepomdTags } from "./repomd-record.js";
export { type RenderRepomdOptions, renderRepomd } from "./repomd-xml.js";
export {
  type PackageDecision,
  type PackageTransform,
  type RewritePrimaryOptions,
  type RewriteSummary,
  rewritePrimary,
} from "./rewrite-primary.js";
export {
  checkXml,
  checkXmlText,
  doctypeProblem,
  SafeXmlParser,
  type SafeXmlParserOptions,
  walkXml,
  type XmlVisitor,
} from "./safe-xml.js";
export { type WriteDatabasesOptions, writeSqliteDatabases } from "./sqlite-databases.js";
export { filelistRows } from "./sqlite-rows.js";
export { DATABASE_VERSION, type DatabaseKind, databaseSchema } from "./sqlite-schema.js";
export { readUpstreamPrimary, type UpstreamPackage } from "./upstream-primary-reader.js";
export {
  type MetadataCompressor,
  syncDirectory,
  type WriteMetadataFileOptions,
  writeMetadataFile,
} from "./write-metadata-file.js";
export { escapeAttr, escapeText } from "./xml-escape.js";
export { unescapeXml } from "./xml-unescape.js";
