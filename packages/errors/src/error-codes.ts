/**
 * The one registry of error codes. A code names the problem, never a transport status;
 * `httpStatus` and `beskarCode` (Beskar's API error code, see SPEC §5) are derived here and only here.
 */
export const errorCodes = {
  // Requests
  INVALID_ARGUMENT: { httpStatus: 400, beskarCode: "InvalidArgument" },
  INVALID_REPOSITORY_NAME: { httpStatus: 400, beskarCode: "InvalidArgument" },
  INVALID_FILE_NAME: { httpStatus: 400, beskarCode: "InvalidArgument" },
  UNAUTHENTICATED: { httpStatus: 401, beskarCode: "Unauthenticated" },
  PERMISSION_DENIED: { httpStatus: 403, beskarCode: "PermissionDenied" },
  NOT_FOUND: { httpStatus: 404, beskarCode: "NotFound" },
  PAYLOAD_TOO_LARGE: { httpStatus: 413, beskarCode: "InvalidArgument" },
  RANGE_NOT_SATISFIABLE: { httpStatus: 416, beskarCode: "OutOfRange" },
  // Repositories
  REPO_NOT_FOUND: { httpStatus: 404, beskarCode: "NotFound" },
  REPO_ALREADY_EXISTS: { httpStatus: 409, beskarCode: "AlreadyExists" },
  REPO_NOT_EMPTY: { httpStatus: 400, beskarCode: "FailedPrecondition" },
  REPO_BEING_DELETED: { httpStatus: 409, beskarCode: "AlreadyExists" },
  REPO_IS_MIRROR: { httpStatus: 409, beskarCode: "AlreadyExists" },
  REPO_MIRROR_READ_ONLY: { httpStatus: 400, beskarCode: "FailedPrecondition" },
  REPO_BAD_GPG_KEY: { httpStatus: 400, beskarCode: "InvalidArgument" },
  PACKAGE_NOT_FOUND: { httpStatus: 404, beskarCode: "NotFound" },
  // A repository at `limits.max_packages_per_repository` (an upload of a new package, a sync of an upstream listing more).
  REPO_PACKAGE_LIMIT: { httpStatus: 400, beskarCode: "FailedPrecondition" },
  PACKAGE_SIGNATURE_INVALID: { httpStatus: 400, beskarCode: "InvalidArgument" },
  // RPM parsing
  RPM_TRUNCATED: { httpStatus: 400, beskarCode: "InvalidArgument" },
  RPM_BAD_MAGIC: { httpStatus: 400, beskarCode: "InvalidArgument" },
  RPM_BAD_HEADER: { httpStatus: 400, beskarCode: "InvalidArgument" },
  RPM_MISSING_TAG: { httpStatus: 400, beskarCode: "InvalidArgument" },
  RPM_DIGEST_MISMATCH: { httpStatus: 400, beskarCode: "InvalidArgument" },
  // The payload (bytes after the main header) does not match the header's payload digest or the
  // signature header's MD5 of header+payload.
  RPM_PAYLOAD_DIGEST_MISMATCH: { httpStatus: 400, beskarCode: "InvalidArgument" },
  // Bytes after the header+payload length the signature header gives (SIZE/LONGSIZE).
  RPM_TRAILING_DATA: { httpStatus: 400, beskarCode: "InvalidArgument" },
  RPM_SIGNATURE_INVALID: { httpStatus: 400, beskarCode: "InvalidArgument" },
  // Repodata / upstream metadata
  REPODATA_INVALID: { httpStatus: 400, beskarCode: "InvalidArgument" },
  // Mirror sync
  REPO_NOT_MIRROR: { httpStatus: 400, beskarCode: "FailedPrecondition" },
  SYNC_IN_PROGRESS: { httpStatus: 409, beskarCode: "AlreadyExists" },
  SYNC_FAILED: { httpStatus: 500, beskarCode: "Internal" },
  SYNC_INTERRUPTED: { httpStatus: 500, beskarCode: "Internal" },
  UPSTREAM_UNAVAILABLE: { httpStatus: 502, beskarCode: "Unavailable" },
  UPSTREAM_BAD_HREF: { httpStatus: 502, beskarCode: "Unavailable" },
  UPSTREAM_CHECKSUM_MISMATCH: { httpStatus: 502, beskarCode: "Unavailable" },
  UPSTREAM_SIZE_MISMATCH: { httpStatus: 502, beskarCode: "Unavailable" },
  UPSTREAM_SIGNATURE_INVALID: { httpStatus: 502, beskarCode: "Unavailable" },
  // An upstream older than what is served (a stale mirror): refused unless the sync is forced.
  UPSTREAM_STALE: { httpStatus: 502, beskarCode: "Unavailable" },
  // A metalink or mirrorlist that cannot be read, or that names no usable mirror.
  METALINK_INVALID: { httpStatus: 503, beskarCode: "Unavailable" },
  UPSTREAM_TOO_MANY_REDIRECTS: { httpStatus: 502, beskarCode: "Unavailable" },
  UPSTREAM_RATE_LIMITED: { httpStatus: 502, beskarCode: "Unavailable" },
  UPSTREAM_PROXY_FAILED: { httpStatus: 502, beskarCode: "Unavailable" },
  // OCI registry (storage replica, webhook notifications, Beskar's registry)
  REGISTRY_UNAVAILABLE: { httpStatus: 503, beskarCode: "Unavailable" },
  REGISTRY_REJECTED: { httpStatus: 500, beskarCode: "Internal" },
  REGISTRY_NOT_FOUND: { httpStatus: 404, beskarCode: "NotFound" },
  REGISTRY_DIGEST_MISMATCH: { httpStatus: 500, beskarCode: "Internal" },
  REGISTRY_EVENT_INVALID: { httpStatus: 400, beskarCode: "InvalidArgument" },
  // The registry replica holds a repository this node has no index for (a lost disk, a new node,
  // Beskar's Go plugin's content): it must be restored (`beskar-yum restore`) before anything is
  // created or published under its name, or its registry copy would be replaced by a partial one.
  REPO_NOT_RESTORED: { httpStatus: 409, beskarCode: "AlreadyExists" },
  // `restore` needs `registry.url`: there is nothing to restore from without it.
  REGISTRY_NOT_CONFIGURED: { httpStatus: 400, beskarCode: "FailedPrecondition" },
  // Infrastructure
  LOCK_LOST: { httpStatus: 503, beskarCode: "Unavailable" },
  UNAVAILABLE: { httpStatus: 503, beskarCode: "Unavailable" },
  TIMEOUT: { httpStatus: 504, beskarCode: "DeadlineExceeded" },
  CONFIG_INVALID: { httpStatus: 500, beskarCode: "Internal" },
  STORAGE_CORRUPT: { httpStatus: 500, beskarCode: "Internal" },
  // An index written by a newer build (its schema version is unknown here): refused rather than misread.
  STORAGE_VERSION_UNSUPPORTED: { httpStatus: 500, beskarCode: "Internal" },
  INTERNAL: { httpStatus: 500, beskarCode: "Internal" },
  // Background jobs (worker): a payload that is not ours, an exception that escaped a job
  JOB_INVALID: { httpStatus: 400, beskarCode: "InvalidArgument" },
  JOB_CRASHED: { httpStatus: 500, beskarCode: "Internal" },
} as const satisfies Record<string, { httpStatus: number; beskarCode: BeskarCode }>;

/** Beskar's API error codes (kun / gRPC style names), as they appear in `{"error":{"code":...}}`. */
export type BeskarCode =
  | "InvalidArgument"
  | "FailedPrecondition"
  | "OutOfRange"
  | "Unauthenticated"
  | "PermissionDenied"
  | "NotFound"
  | "AlreadyExists"
  | "Internal"
  | "Unavailable"
  | "DeadlineExceeded";

export type ErrorCode = keyof typeof errorCodes;
