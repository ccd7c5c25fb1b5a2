import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = (file: string) => pathToFileURL(join(root, "apps/worker/dist", file)).href;

/**
 * Runs `body` in a fresh Node process with the worker's real JobGuard and process guards installed
 * (the built apps/worker/dist), a JSON-lines logger on stdout, and a TCP server whose every
 * connection receives "hello": a job's socket callback that throws is an exception escaping that
 * job asynchronously, as a broken HTTP parser's assertion does.
 */
function runGuarded(body: string): Promise<{ code: number | null; lines: Record<string, any>[] }> {
  const script = `
    import net from "node:net";
    import { once } from "node:events";
    const { JobGuard } = await import(${JSON.stringify(dist("job-guard.js"))});
    const { installProcessGuards } = await import(${JSON.stringify(dist("process-guards.js"))});
    const log = (level) => (fields, msg) =>
      console.log(JSON.stringify({ level, msg, err: fields.err?.message, job: fields.job }));
    const logger = { error: log("error"), fatal: log("fatal"), warn: log("warn"), info: log("info") };
    const say = (msg, fields = {}) => console.log(JSON.stringify({ level: "test", msg, ...fields }));
    const guard = new JobGuard({ stopGraceMs: 500, onStuck: (job) => { say("stuck", { job }); process.exit(3); } });
    installProcessGuards({ logger, guard, exit: (code) => process.exit(code) });
    const server = net.createServer((s) => s.end("hello")).listen(0, "127.0.0.1");
    await once(server, "listening");
    const port = server.address().port;
    /** A job whose socket's data callback throws; it winds down when its signal aborts unless told not to. */
    const crashingJob = (label, { windDown = true } = {}) =>
      guard.run(label, (signal) => new Promise((resolve) => {
        const socket = net.connect(port, "127.0.0.1");
        socket.on("data", () => { throw new Error("assertion in a socket callback"); });
        if (windDown) signal.addEventListener("abort", () => { socket.destroy(); resolve("wound down"); });
      })).then((v) => "resolved " + v, (err) => err.code + ": " + err.message);
    ${body}
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { cwd: root });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      const lines = out
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, any>);
      if (lines.length === 0) reject(new Error(`no output; got:\n${out}`));
      else resolve({ code, lines });
    });
  });
}

describe("the worker's process guards", () => {
  it("fail only the job an asynchronous exception escaped from; the process goes on with other jobs", async () => {
    const { code, lines } = await runGuarded(`
      say("job-1", { result: await crashingJob("job-1") });
      say("job-2", { result: await guard.run("job-2", async () => "ok") });
      const leftover = async () => {
        net.connect(port, "127.0.0.1").on("data", () => { throw new Error("a late callback"); });
        return "done";
      };
      say("job-3", { result: await guard.run("job-3", leftover) });
      await new Promise((r) => setTimeout(r, 100));
      Promise.reject(new Error("nobody awaited this"));
      await new Promise((r) => setTimeout(r, 50));
      say("still running");
      process.exit(0);
    `);
    expect(code).toBe(0);
    expect(lines).toEqual([
      {
        level: "error",
        msg: "an exception escaped a job: that job fails, the worker goes on",
        err: "assertion in a socket callback",
        job: "job-1",
      },
      {
        level: "test",
        msg: "job-1",
        result: "JOB_CRASHED: unexpected error in job-1: assertion in a socket callback",
      },
      { level: "test", msg: "job-2", result: "ok" },
      { level: "test", msg: "job-3", result: "done" },
      {
        level: "error",
        msg: "an exception escaped a finished job; the worker goes on",
        err: "a late callback",
        job: "job-3",
      },
      {
        level: "error",
        msg: "unhandled promise rejection (logged; the worker goes on)",
        err: "nobody awaited this",
      },
      { level: "test", msg: "still running" },
    ]);
  });

  it("exit to be restarted when a crashed job does not wind down, or an exception escapes outside any job", async () => {
    const stuck = await runGuarded(`
      say("job-3", { result: await crashingJob("job-3", { windDown: false }) });
      await new Promise((r) => setTimeout(r, 5000));
      say("not reached");
    `);
    expect(stuck.code).toBe(3);
    expect(stuck.lines.map((l) => [l.msg, l.result ?? l.job])).toEqual([
      ["an exception escaped a job: that job fails, the worker goes on", "job-3"],
      ["job-3", "JOB_CRASHED: unexpected error in job-3: assertion in a socket callback"],
      ["stuck", "job-3"],
    ]);

    const outside = await runGuarded(`
      setTimeout(() => { throw new Error("a bug outside any job"); }, 10);
      await new Promise((r) => setTimeout(r, 5000));
      say("not reached");
    `);
    expect(outside.code).toBe(1);
    expect(outside.lines).toEqual([
      {
        level: "fatal",
        msg: "uncaught exception outside any job: exiting to be restarted",
        err: "a bug outside any job",
      },
    ]);
  });
});
