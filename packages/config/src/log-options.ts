import { redactRequestUrl, redactText } from "@beskar-yum/errors";

/**
 * pino options every process uses, so that no log line shows a secret: each line is written through
 * `redactText` (URL passwords, credential-like query parameters, bearer tokens), and a request `url`
 * field is redacted as it is serialized.
 */
export const redactingLogOptions = {
  serializers: { url: redactRequestUrl },
  hooks: { streamWrite: redactText },
};
