import { freePort, startProcess } from "./processes.js";
import { waitForPort } from "./wait-for-port.js";

export interface PythonHttpServer {
  /** `http://127.0.0.1:<port>/`. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * Debian's `python3 -m http.server` serving `root` on 127.0.0.1: an HTTP/1.0 server that closes the
 * connection after every response (the upstream that crashed undici 7's parser, undici #5360).
 */
export async function startPythonHttpServer(root: string): Promise<PythonHttpServer> {
  const port = await freePort();
  const child = await startProcess(
    "/usr/bin/python3",
    ["-m", "http.server", "--bind", "127.0.0.1", String(port), "--directory", root],
    // Unbuffered, so that its request log reaches output() as it happens.
    { env: { PYTHONUNBUFFERED: "1" } },
  );
  await waitForPort(port, child);
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    async stop() {
      await child.stop("SIGTERM", 5_000);
    },
  };
}
