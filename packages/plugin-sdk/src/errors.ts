/**
 * Stable codes for what the plugin SDK raises on purpose. They name the problem; the message says what was
 * expected, what arrived and where.
 */
export const pluginSdkErrorCodes = [
  // encoding/gob (BeskarMeta)
  "GOB_TRUNCATED",
  "GOB_MALFORMED",
  "GOB_UNSUPPORTED",
  "GOB_OUT_OF_RANGE",
  // memberlist wire format
  "MSGPACK_TRUNCATED",
  "MSGPACK_MALFORMED",
  "LZW_MALFORMED",
  "MESSAGE_MALFORMED",
  "MESSAGE_TOO_LARGE",
  "DECRYPT_FAILED",
  "ENCRYPTION_MISMATCH",
  "REMOTE_ERROR",
  "CONNECT_FAILED",
  // member lifecycle and configuration
  "INVALID_OPTION",
  "INVALID_KEY",
  "META_TOO_LARGE",
  "JOIN_FAILED",
  "TIMEOUT",
  "SHUT_DOWN",
  // Beskar's CA push/pull state
  "CA_STATE_INVALID",
  // mTLS material (CA, leaf certificates)
  "CA_INVALID",
  "CERTIFICATE_INVALID",
  // protobuf messages (Info, EventPayload)
  "PROTO_MALFORMED",
  // repository handlers
  "HANDLER_STOPPED",
  // plugin server startup
  "NO_BESKAR_INSTANCE",
  "NO_CA",
  "SERVER_FAILED",
] as const;

export type PluginSdkErrorCode = (typeof pluginSdkErrorCodes)[number];

/** Every error the plugin SDK raises on purpose: `code` is stable, `message` is for humans. */
export class PluginSdkError extends Error {
  readonly code: PluginSdkErrorCode;
  /** Structured context (offset, peer address, sizes...) that logs carry alongside the message. */
  readonly details: Record<string, unknown>;

  constructor(
    code: PluginSdkErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "PluginSdkError";
    this.code = code;
    this.details = details;
  }
}

export function isPluginSdkError(err: unknown, code?: PluginSdkErrorCode): err is PluginSdkError {
  return err instanceof PluginSdkError && (code === undefined || err.code === code);
}

/** A short hex excerpt of `bytes` around `offset`, for parser error messages. */
export function hexExcerpt(bytes: Uint8Array, offset: number, radius = 8): string {
  const start = Math.max(0, offset - radius);
  const end = Math.min(bytes.length, offset + radius);
  const hex = Buffer.from(bytes.subarray(start, end)).toString("hex");
  return `${start > 0 ? "…" : ""}${hex}${end < bytes.length ? "…" : ""}`;
}
