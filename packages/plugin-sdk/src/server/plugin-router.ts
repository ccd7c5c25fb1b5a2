import type * as http from "node:http";
import { describeError, type Logger } from "../logger.js";
import type { RequestHandler } from "./web-handler.js";

/**
 * The plugin server's request dispatch: exact paths the SDK serves (`/`, then `/info` and `/event` once
 * mounted), everything else to the service's own listener (its `config.router`), or 404 without one.
 */
export class PluginRouter {
  private readonly routes = new Map<string, RequestHandler>();

  constructor(
    private readonly fallback: http.RequestListener | undefined,
    private readonly logger: Logger,
  ) {}

  /** Serves `path` (exact match, query string ignored) with `handler`. */
  handle(path: string, handler: RequestHandler): void {
    this.routes.set(path, handler);
  }

  readonly listener: http.RequestListener = (req, res) => {
    const handler = this.routes.get(pathOf(req.url));
    if (!handler) {
      if (this.fallback) this.fallback(req, res);
      else res.writeHead(404).end();
      return;
    }
    const fail = (err: unknown) => {
      this.logger.error({ path: req.url, err: describeError(err) }, "request handler failed");
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    };
    try {
      const result = handler(req, res);
      if (result) result.catch(fail);
    } catch (err) {
      fail(err);
    }
  };
}

function pathOf(url: string | undefined): string {
  const raw = url ?? "/";
  const q = raw.indexOf("?");
  return q >= 0 ? raw.slice(0, q) : raw;
}
