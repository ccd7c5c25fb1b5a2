export { type BeskarCode, type ErrorCode, errorCodes } from "./error-codes.js";
export {
  isRedactedUrl,
  keepStoredSecret,
  REDACTED,
  redactRequestUrl,
  redactText,
  redactUrl,
} from "./redact.js";
export { errorBody, isYumError, YumError } from "./yum-error.js";
