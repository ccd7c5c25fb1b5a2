import { hex, type ParseContext, rpmError } from "./parse-context.js";

/** Size of the legacy lead that starts every RPM file. */
export const LEAD_SIZE = 96;
const LEAD_MAGIC = 0xedabeedb;
/** `RPMSIGTYPE_HEADERSIG`: the only signature type rpm accepts. */
const HEADER_SIGNATURE_TYPE = 5;

export interface RpmLead {
  major: number;
  minor: number;
  /** 0 binary, 1 source. Informative only: rpm decides from the header. */
  type: number;
  name: string;
}

/** Parses and checks the 96-byte lead (rpm's `rpmLeadCheck`). */
export function parseLead(bytes: Uint8Array, ctx: ParseContext): RpmLead {
  if (bytes.length >= 4) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const magic = view.getUint32(0);
    if (magic !== LEAD_MAGIC) {
      throw rpmError(
        "RPM_BAD_MAGIC",
        ctx,
        `not an RPM: lead magic at offset 0 is ${hex(bytes.subarray(0, 4))}, expected edabeedb`,
        { offset: 0 },
      );
    }
  }
  if (bytes.length < LEAD_SIZE) {
    throw rpmError(
      "RPM_TRUNCATED",
      ctx,
      `truncated RPM: the lead needs ${LEAD_SIZE} bytes at offset 0, only ${bytes.length} available`,
      { offset: 0, expected: LEAD_SIZE, actual: bytes.length },
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, LEAD_SIZE);
  const major = view.getUint8(4);
  const minor = view.getUint8(5);
  if (major < 3 || major > 4) {
    throw rpmError(
      "RPM_BAD_HEADER",
      ctx,
      `unsupported RPM lead version ${major}.${minor} at offset 4, expected 3 or 4`,
      {
        offset: 4,
      },
    );
  }
  const signatureType = view.getUint16(78);
  if (signatureType !== HEADER_SIGNATURE_TYPE) {
    throw rpmError(
      "RPM_BAD_HEADER",
      ctx,
      `illegal lead signature type ${signatureType} at offset 78, expected ${HEADER_SIGNATURE_TYPE}`,
      { offset: 78 },
    );
  }
  const nameBytes = bytes.subarray(10, 76);
  const nul = nameBytes.indexOf(0);
  const name = Buffer.from(nul < 0 ? nameBytes : nameBytes.subarray(0, nul)).toString("latin1");
  return { major, minor, type: view.getUint16(6), name };
}
