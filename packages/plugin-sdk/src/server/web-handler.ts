import type * as http from "node:http";
import * as path from "node:path";
import { describeError, type Logger } from "../logger.js";
import { Action, actionName, decodeEventPayload, type EventPayload } from "../proto/event-payload.js";
import { encodeInfo, type PluginInfo } from "../proto/plugin-info.js";
import type { Handler } from "../repository/handler.js";
import type { RepositoryManager } from "../repository/repository-manager.js";
import { isTlsRequest } from "./plugin-http-server.js";

/** A request handler; a rejection is answered 500 (unless the response has started). */
export type RequestHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void | Promise<void>;

/** Largest `/event` body accepted (an OCI manifest is a few KiB). */
const MAX_EVENT_BYTES = 4 * 1024 * 1024;

/** Answers 401 to a request that did not come over TLS (Beskar's IsTLSMiddleware). */
export function requireTls(handler: RequestHandler): RequestHandler {
  return (req, res) => {
    if (!isTlsRequest(req)) {
      res.writeHead(401).end();
      return;
    }
    return handler(req, res);
  };
}

/** `GET /info`: the plugin's Info, protobuf; other methods 501. */
export function infoHandler(info: PluginInfo): RequestHandler {
  const body = Buffer.from(encodeInfo(info));
  return (req, res) => {
    if (req.method !== "GET") {
      res.writeHead(501).end();
      return;
    }
    res
      .writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": body.length })
      .end(body);
  };
}

export interface EventHandlerOptions {
  /** Undefined for a plugin without state: every event gets 501, as Beskar. */
  manager: RepositoryManager<Handler> | undefined;
  logger: Logger;
  /** While true (shutting down), events get 503 so Beskar retries elsewhere or later. */
  closing?: () => boolean;
}

/**
 * `POST /event` (Beskar's webHandler.event): decodes the EventPayload and routes it to the handler of
 * `path.dirname(event.repository)`: PUT/DELETE → `queueEvent(event, true)`, START → the handler is made,
 * STOP → it is stopped. 200 once queued; 501 for other methods or without a manager; 500 for a body that
 * does not decode, an empty repository or a handler that refuses the event.
 */
export function eventHandler(options: EventHandlerOptions): RequestHandler {
  const { manager, logger } = options;
  return async (req, res) => {
    if (!manager || req.method !== "POST") {
      res.writeHead(501).end();
      return;
    }
    if (options.closing?.()) {
      res.writeHead(503).end();
      return;
    }
    const body = await readBody(req, MAX_EVENT_BYTES);
    if (body === undefined) {
      res.writeHead(413, { Connection: "close" }).end();
      return;
    }
    let event: EventPayload;
    try {
      event = decodeEventPayload(body);
    } catch (err) {
      logger.error({ err: describeError(err) }, "unmarshal event");
      res.writeHead(500).end();
      return;
    }
    const repository = path.posix.dirname(event.repository);
    if (event.repository === "" || repository === ".") {
      logger.error({ repository: event.repository }, "empty repository name");
      res.writeHead(500).end();
      return;
    }
    logger.info({ action: actionName(event.action), repository, digest: event.digest }, "process event");
    try {
      switch (event.action) {
        case Action.PUT:
        case Action.DELETE:
          await manager.get(repository).queueEvent(event, true);
          break;
        case Action.START:
          manager.get(repository);
          break;
        case Action.STOP:
          await manager.getAll().get(repository)?.stop();
          break;
      }
    } catch (err) {
      logger.error({ repository, err: describeError(err) }, "process put/delete event");
      res.writeHead(500).end();
      return;
    }
    res.writeHead(200).end();
  };
}

/** The body, or undefined when it exceeds `limit` bytes. */
async function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
