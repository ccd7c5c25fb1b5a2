// Helpers shared by the repository's plain-Node scripts (check-tools.mjs, start.mjs): no dependencies.
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import * as tls from "node:tls";

/** True when an executable named `bin` is on $PATH. */
export function onPath(bin) {
  return (process.env.PATH ?? "").split(path.delimiter).some((dir) => {
    if (dir === "") return false;
    try {
      fs.accessSync(path.join(dir, bin), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * PING over a raw socket (AUTH first when the URL has a password). Resolves true on +PONG within a
 * second, else false; a Redis error reply (NOAUTH, WRONGPASS, ...) is passed to `onErrorReply`.
 */
export function pingRedis(url, onErrorReply = () => {}) {
  const command = (...parts) =>
    `*${parts.length}\r\n${parts.map((p) => `$${Buffer.byteLength(p)}\r\n${p}\r\n`).join("")}`;
  const user = decodeURIComponent(url.username);
  const pass = decodeURIComponent(url.password);
  const auth = pass ? command("AUTH", ...(user ? [user] : []), pass) : "";
  const options = { host: url.hostname.replace(/^\[|\]$/g, ""), port: Number(url.port || 6379) };
  const secure = url.protocol === "rediss:";
  return new Promise((resolve) => {
    const socket = secure ? tls.connect({ ...options, servername: options.host }) : net.connect(options);
    let reply = "";
    const done = (ok) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 1000);
    socket.once(secure ? "secureConnect" : "connect", () => socket.write(auth + command("PING")));
    socket.on("data", (chunk) => {
      reply += chunk.toString("latin1");
      if (reply.includes("+PONG\r\n")) done(true);
      else if (/(^|\r\n)-[^\r]*\r\n/.test(reply)) {
        onErrorReply(/-([^\r]*)/.exec(reply)?.[1] ?? "");
        done(false);
      }
    });
    socket.on("error", () => done(false));
    socket.on("close", () => done(false));
  });
}
