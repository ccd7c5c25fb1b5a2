import { connect } from "node:net";
import type { ProcessHandle } from "./processes.js";

/**
 * Resolves once something accepts connections on 127.0.0.1:`port` (for servers that print no ready
 * line); rejects with the process's output if it exits first or nothing listens within `timeoutMs`.
 */
export async function waitForPort(port: number, child: ProcessHandle, timeoutMs = 10_000): Promise<void> {
  let exited = false;
  void child.exited.then(() => {
    exited = true;
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (up) return;
    if (exited)
      throw new Error(`pid ${child.pid} exited before listening on ${port}; output:\n${child.output()}`);
    if (Date.now() > deadline) {
      await child.stop("SIGKILL");
      throw new Error(
        `pid ${child.pid}: nothing listening on ${port} after ${timeoutMs} ms; output:\n${child.output()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
