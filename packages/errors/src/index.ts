export { type BeskarCode, type ErrorCode, errorCodes } from "./error-codes.js";
export { errorBody, isYumError, YumError } from "./yum-error.js";
