import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const guards = fileURLToPath(new URL("../dist/process-guards.js", import.meta.url));

/** Runs `body` in a fresh Node process with the built guards installed; its exit code and log lines. */
function runGuarded(body: string): { status: number | null; lines: Array<Record<string, unknown>> } {
  const script = `
    import { pino } from "pino";
    import { installProcessGuards } from ${JSON.stringify(guards)};
    installProcessGuards(pino());
    ${body}
  `;
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    encoding: "utf8",
    timeout: 20_000,
  });
  const lines = result.stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { status: result.status, lines };
}

describe("installProcessGuards (api)", () => {
  it("logs an unhandled rejection and goes on", () => {
    const { status, lines } = runGuarded(`
      Promise.reject(new Error("nobody awaited this"));
      setTimeout(() => { console.log(JSON.stringify({ msg: "still serving" })); }, 50);
    `);
    expect(status).toBe(0);
    expect(lines.map((l) => l.msg)).toEqual([
      "unhandled promise rejection (logged; the api goes on)",
      "still serving",
    ]);
    expect(JSON.stringify(lines[0])).toContain("nobody awaited this");
  });

  it("logs an uncaught exception with its stack and exits 1 to be restarted", () => {
    const { status, lines } = runGuarded(`
      setTimeout(() => { throw new Error("thrown from a socket callback"); }, 10);
      setTimeout(() => { console.log(JSON.stringify({ msg: "should not run" })); }, 500);
    `);
    expect(status).toBe(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.msg).toBe("uncaught exception: exiting to be restarted");
    expect(JSON.stringify(lines[0]!.err)).toContain("thrown from a socket callback");
  });
});
