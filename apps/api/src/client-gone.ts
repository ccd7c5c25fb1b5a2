import type { FastifyReply } from "fastify";

/**
 * Aborts when the client goes away before its response is sent (the connection closed), so that a
 * handler waiting on its behalf (`sync?wait=true`) stops instead of waiting for nobody.
 */
export function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  const res = reply.raw;
  const onClose = () => {
    if (!res.writableFinished) controller.abort(new Error("the client disconnected"));
  };
  if (res.destroyed || res.socket?.destroyed) onClose();
  else res.once("close", onClose);
  return controller.signal;
}
