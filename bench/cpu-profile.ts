/**
 * Preloaded with `--import` (NODE_OPTIONS) into the API and worker when BENCH_PROFILE_DIR is set:
 * Node 20 refuses `--cpu-prof` in NODE_OPTIONS, so the profile is taken through the inspector and
 * written at exit as `<dir>/CPU.<pid>.cpuprofile` (open it in Chrome DevTools or speedscope).
 */
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { join, sep } from "node:path";

const dir = process.env.BENCH_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.start");
  process.on("exit", () => {
    // The in-process session answers synchronously, so this still runs before the process is gone.
    session.post("Profiler.stop", (err, result) => {
      if (err) return;
      // apps/worker/dist/main.js -> worker_dist_main_js
      const name = (process.argv[1] ?? "node").split(sep).slice(-3).join("_").replace(/\W+/g, "_");
      writeFileSync(join(dir, `CPU.${name}.${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
