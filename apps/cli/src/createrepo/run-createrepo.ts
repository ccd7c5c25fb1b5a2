import { isYumError } from "@beskar-yum/errors";
import { CreaterepoUsageError, createrepoUsage, parseCreaterepoArgs } from "./createrepo-options.js";
import { startCreaterepo } from "./createrepo-start.js";

export interface CommandIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

/**
 * `beskar-yum createrepo ...`: returns the exit code (0 done, 1 failed — repodata/ untouched,
 * 2 usage). Progress goes to stderr when it is a terminal; the summary to stdout. The
 * directory scan, the old metadata reads and the parser threads start before the modules that
 * parse and write metadata are loaded (`startCreaterepo`), so loading them costs no wall time.
 */
export async function runCreaterepo(
  argv: string[],
  io: CommandIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  let opts: ReturnType<typeof parseCreaterepoArgs>;
  try {
    opts = parseCreaterepoArgs(argv);
  } catch (err) {
    if (!(err instanceof CreaterepoUsageError)) throw err;
    io.stderr.write(`beskar-yum createrepo: ${err.message}\n${createrepoUsage}\n`);
    return 2;
  }
  if (opts === "help") {
    io.stdout.write(`${createrepoUsage}\n`);
    return 0;
  }
  const tty = io.stderr.isTTY === true && !opts.quiet;
  let shown = false;
  let InvalidPackages: (new (...args: never[]) => Error) | undefined;
  try {
    const run = await startCreaterepo(opts);
    let module: typeof import("./createrepo.js");
    try {
      module = await import("./createrepo.js");
    } catch (err) {
      await run.finish();
      throw err;
    }
    InvalidPackages = module.InvalidPackagesError;
    const summary = await module.createrepo(
      opts,
      {
        warn: (line) => io.stderr.write(`${shown ? "\r\x1b[K" : ""}${line}\n`),
        ...(tty
          ? {
              progress: (line: string) => {
                shown = true;
                io.stderr.write(`\r\x1b[K${line}`);
              },
            }
          : {}),
      },
      run,
    );
    if (shown) io.stderr.write("\r\x1b[K");
    if (opts.json) {
      const { records, skipped, ...rest } = summary;
      io.stdout.write(
        `${JSON.stringify({
          ...rest,
          skipped: skipped.map((f) => ({ path: f.path, code: f.code, message: f.message })),
          files: Object.fromEntries(records.map((r) => [r.type, r.location])),
        })}\n`,
      );
    } else if (!opts.quiet) {
      const skipped = summary.skipped.length > 0 ? `, ${summary.skipped.length} skipped` : "";
      io.stdout.write(
        `${summary.dir}/repodata: ${summary.packages} packages (${summary.parsed} parsed, ` +
          `${summary.reused} reused, ${summary.removed} removed${skipped}) in ${(summary.ms / 1000).toFixed(2)} s\n`,
      );
    }
    return 0;
  } catch (err) {
    if (shown) io.stderr.write("\r\x1b[K");
    if (InvalidPackages && err instanceof InvalidPackages) {
      io.stderr.write(`beskar-yum createrepo: ${err.message}\n`);
    } else if (isYumError(err)) {
      io.stderr.write(`beskar-yum createrepo: ${err.code}: ${err.message}\n`);
    } else {
      io.stderr.write(`beskar-yum createrepo: ${(err as Error).message}\n`);
    }
    return 1;
  }
}
