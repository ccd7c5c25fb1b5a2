import { PluginSdkError } from "./errors.js";

/**
 * The push/pull user state Beskar's gossip delegate exchanges (pkg/mtls): Go's `json.Marshal` of
 * `{Cert []byte "cert"; Key []byte "key"}`, so each PEM text travels as a base64 string.
 */
export interface CaState {
  /** The CA certificate, PEM ("CERTIFICATE"). */
  certPem: string;
  /** The CA private key, PEM ("EC PRIVATE KEY", SEC1). */
  keyPem: string;
}

/** Largest state accepted (a P-384 CA is about 2 KiB). */
const MAX_STATE_BYTES = 64 * 1024;

export function encodeCaState(state: CaState): Buffer {
  return Buffer.from(
    JSON.stringify({
      cert: Buffer.from(state.certPem, "utf8").toString("base64"),
      key: Buffer.from(state.keyPem, "utf8").toString("base64"),
    }),
    "utf8",
  );
}

export function decodeCaState(bytes: Uint8Array): CaState {
  if (bytes.length > MAX_STATE_BYTES) {
    throw new PluginSdkError(
      "CA_STATE_INVALID",
      `CA state of ${bytes.length} bytes exceeds ${MAX_STATE_BYTES}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (err) {
    throw new PluginSdkError(
      "CA_STATE_INVALID",
      `CA state is not JSON: ${(err as Error).message}`,
      {},
      { cause: err },
    );
  }
  if (typeof parsed !== "object" || parsed === null) {
    throw new PluginSdkError("CA_STATE_INVALID", 'CA state must be a JSON object {"cert", "key"}');
  }
  const record = parsed as Record<string, unknown>;
  return { certPem: pemField(record, "cert", "CERTIFICATE"), keyPem: pemField(record, "key", "PRIVATE KEY") };
}

function pemField(record: Record<string, unknown>, name: string, label: string): string {
  const value = record[name];
  if (typeof value !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) {
    throw new PluginSdkError("CA_STATE_INVALID", `CA state field "${name}" must be a base64 string`);
  }
  const pem = Buffer.from(value, "base64").toString("utf8");
  if (!new RegExp(`-----BEGIN [A-Z ]*${label}-----`).test(pem)) {
    throw new PluginSdkError("CA_STATE_INVALID", `CA state field "${name}" does not hold a PEM ${label}`);
  }
  return pem;
}
