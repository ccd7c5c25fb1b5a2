import { type BeskarCode, type ErrorCode, errorCodes } from "./error-codes.js";
import { redactText } from "./redact.js";

/** Every error the project raises on purpose. `code` is stable and documented; `message` is for humans. */
export class YumError extends Error {
  readonly code: ErrorCode;
  /** Structured context (file, offset, tag, ...) that logs carry alongside the message. */
  readonly details: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "YumError";
    this.code = code;
    this.details = details;
  }

  get httpStatus(): number {
    return errorCodes[this.code].httpStatus;
  }

  get beskarCode(): BeskarCode {
    return errorCodes[this.code].beskarCode;
  }
}

export function isYumError(err: unknown, code?: ErrorCode): err is YumError {
  return err instanceof YumError && (code === undefined || err.code === code);
}

/** The JSON body of an error response, in Beskar's shape plus our stable code; secrets in the message hidden. */
export function errorBody(err: YumError): {
  error: { code: BeskarCode; reason: ErrorCode; message: string };
} {
  return { error: { code: err.beskarCode, reason: err.code, message: redactText(err.message) } };
}
