import type * as http from "node:http";
import { isTlsRequest } from "@beskar-yum/plugin-sdk";
import type { FastifyInstance } from "fastify";
import { closeUnreadRequest } from "../connection-limits.js";

const adminPrefix = "/artifacts/yum/api/";

/**
 * Our fastify app as the plugin server's router: every route answers on the plugin port, plain HTTP
 * and TLS alike, except the admin API, which is TLS only as in Beskar (IsTLSMiddleware: 401 on plain
 * HTTP). Over TLS the client certificate, verified against the cluster CA, is the credential (Beskar
 * proxies admin calls with its own certificate and no token), so the request is let through as admin.
 * `app` must be ready (`await app.ready()`).
 */
export function pluginListener(app: FastifyInstance, adminToken: string): http.RequestListener {
  return (req, res) => {
    if ((req.url ?? "").startsWith(adminPrefix)) {
      if (!isTlsRequest(req)) {
        // A body sent with it is not read: the connection closes instead.
        if (!req.complete) closeUnreadRequest(req, res);
        res.writeHead(401).end();
        return;
      }
      req.headers.authorization = `Bearer ${adminToken}`;
    }
    app.routing(req, res);
  };
}
