import { type ErrorCode, YumError } from "@beskar-yum/errors";

/** What a parser knows about the input, for error messages. */
export interface ParseContext {
  /** File name shown in messages (a base name or path); omitted when unknown. */
  fileName?: string;
}

/** A YumError whose message starts with the file name when it is known. */
export function rpmError(
  code: ErrorCode,
  ctx: ParseContext,
  message: string,
  details: Record<string, unknown> = {},
): YumError {
  const prefix = ctx.fileName ? `${ctx.fileName}: ` : "";
  return new YumError(code, `${prefix}${message}`, { file: ctx.fileName, ...details });
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}
