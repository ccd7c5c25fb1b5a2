export { DEFAULT_CHANGELOG_LIMIT } from "./changelogs.js";
export { type DependencyKind, dependencyKinds } from "./dependencies.js";
export { type DependencyFlag, flagToString, RpmSense } from "./dependency-flags.js";
export { type Evr, splitEvr } from "./evr.js";
export { type HeaderEntry, type HeaderKind, RpmHeader } from "./header-reader.js";
export { decodeHeaderText } from "./header-text.js";
export type { RpmLead } from "./lead.js";
export type { PackageOptions } from "./package-from-headers.js";
export {
  type PayloadCoverage,
  PayloadDigestCheck,
  type PayloadVerdict,
  payloadCoverage,
  RpmPayloadVerifier,
  requirePayloadDigest,
  verifyRpmPayload,
} from "./payload-digest.js";
export { describePgpSignature, type PgpSignatureInfo, parsePgpSignature } from "./pgp-signature-info.js";
export { isPrimaryFile } from "./primary-files.js";
export {
  type ParseRpmOptions,
  parseRpm,
  type ReadAt,
  type ReadRpmOptions,
  type ReadRpmResult,
  readRpm,
  readRpmAt,
} from "./read-rpm.js";
export { rpmFileName } from "./rpm-file-name.js";
export type { RpmChangelog, RpmDependency, RpmFile, RpmPackage, RpmSignatureSummary } from "./rpm-package.js";
export { rpmVersionCompare } from "./rpm-version-compare.js";
export { readArmoredPublicKeys, verifyRpmSignature } from "./signature.js";
export { SigTag, Tag } from "./tags.js";
