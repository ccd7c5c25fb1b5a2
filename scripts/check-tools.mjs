#!/usr/bin/env node
// Run by `npm test` (pretest) before anything else: checks that the system tools the tests use are
// present and that Redis answers. As root with apt-get, it installs what is missing (Debian package
// names); otherwise it prints the exact install line and exits 1. Plain Node, no dependencies.
//
// Environment:
//   BESKARYUM_TEST_REDIS_URL     Redis the tests use (default redis://127.0.0.1:6379)
//   BESKARYUM_TEST_START_REDIS=1 when nothing answers there, start a daemonized redis-server on that
//                                port (loopback, no persistence) instead of failing; .ci/run sets it.
//   BESKARYUM_TEST_POSTGRES      PostgreSQL server the index tests create their databases on
//                                (default postgres://postgres@127.0.0.1:5432, trust auth)

import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { onPath, pingRedis } from "./lib/system.mjs";

/** What the tests need, and the Debian package that provides it. */
const requirements = [
  { name: "rpm", pkg: "rpm", found: () => onPath("rpm") },
  { name: "rpmbuild", pkg: "rpm", found: () => onPath("rpmbuild") },
  { name: "rpmsign", pkg: "rpm", found: () => onPath("rpmsign") },
  { name: "createrepo_c", pkg: "createrepo-c", found: () => onPath("createrepo_c") },
  { name: "dnf", pkg: "dnf", found: () => onPath("dnf") },
  { name: "dnf reposync", pkg: "dnf-plugins-core", found: dnfPlugin("reposync") },
  { name: "gpg", pkg: "gnupg", found: () => onPath("gpg") },
  { name: "docker-registry", pkg: "docker-registry", found: () => onPath("docker-registry") },
  { name: "go", pkg: "golang-go", found: () => onPath("go") },
  { name: "psql", pkg: "postgresql-client", found: () => onPath("psql") },
  {
    name: "memberlist sources",
    pkg: "golang-github-hashicorp-memberlist-dev",
    found: () => isDir("/usr/share/gocode/src/github.com/hashicorp/memberlist"),
  },
  { name: "redis-server", pkg: "redis-server", found: () => onPath("redis-server") },
  { name: "redis-cli", pkg: "redis-tools", found: () => onPath("redis-cli") },
  // Real upstreams and proxies the mirror tests sync through.
  { name: "nginx", pkg: "nginx-light", found: () => onPath("nginx") },
  { name: "tinyproxy", pkg: "tinyproxy", found: () => onPath("tinyproxy") },
  { name: "python3 (Debian's)", pkg: "python3", found: () => fs.existsSync("/usr/bin/python3") },
  // Validates docker-compose.yml against the Compose file schema (no container engine needed).
  { name: "docker-compose", pkg: "docker-compose", found: () => onPath("docker-compose") },
  // The browser the dashboard's end-to-end test drives (playwright-core, which downloads none).
  { name: "chromium", pkg: "chromium", found: () => fs.existsSync("/usr/bin/chromium") },
  // Validates the /metrics exposition (`promtool check metrics`).
  { name: "promtool", pkg: "prometheus", found: () => onPath("promtool") },
];

/**
 * zypper (test/signing-zypper.test.ts) conflicts with dnf-plugins-core in Debian 12: its packages
 * are unpacked with `dpkg -x` into this directory instead of installed, and run from there
 * (test/support/zypper.ts: same path). `repo2solv.sh` is the name libzypp calls Debian's `repo2solv` by.
 */
const zypperDir = path.join(os.tmpdir(), "beskar-yum-zypper");
const zypperPackages = [
  "zypper",
  "zypper-common",
  "libzypp1722",
  "libzypp-common",
  "libsolv-tools",
  "libaugeas0",
  "augeas-lenses",
  "libproxy1v5",
  "libyaml-cpp0.7",
  "libboost-thread1.74.0",
  "libsigc++-2.0-0v5",
];

const log = (line) => console.log(`check-tools: ${line}`);

main().catch((err) => {
  console.error(`check-tools: ${err?.stack ?? err}`);
  process.exit(1);
});

async function main() {
  let missing = requirements.filter((r) => !r.found());
  if (missing.length > 0) {
    const packages = [...new Set(missing.map((r) => r.pkg))];
    const install = `DEBIAN_FRONTEND=noninteractive apt-get install -y ${packages.join(" ")}`;
    const isRoot = process.getuid?.() === 0;
    if (!isRoot || !onPath("apt-get")) {
      console.error(`check-tools: missing ${missing.map((r) => r.name).join(", ")}. Install them with:`);
      console.error(`  ${isRoot ? "" : "sudo "}apt-get update && ${isRoot ? "" : "sudo "}${install}`);
      process.exit(1);
    }
    log(`missing ${missing.map((r) => r.name).join(", ")}; running: apt-get update && ${install}`);
    runOrExit("apt-get", ["update"]);
    runOrExit("apt-get", ["install", "-y", ...packages], { DEBIAN_FRONTEND: "noninteractive" });
    missing = requirements.filter((r) => !r.found());
    if (missing.length > 0) {
      console.error(`check-tools: still missing after apt-get: ${missing.map((r) => r.name).join(", ")}`);
      process.exit(1);
    }
  }

  unpackZypper();

  checkPostgres();
  const url = new URL(process.env.BESKARYUM_TEST_REDIS_URL || "redis://127.0.0.1:6379");
  const port = Number(url.port || 6379);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (await pingRedis(url, (reply) => console.error(`check-tools: Redis at ${url.host} replied: ${reply}`))) {
    log(`all tools present; Redis answers at ${url.host}`);
    return;
  }
  const start = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
  const local = host === "127.0.0.1" || host === "localhost";
  if (local && onPath("redis-server") && process.env.BESKARYUM_TEST_START_REDIS === "1") {
    const dir = path.join(os.tmpdir(), `beskar-yum-test-redis-${port}`);
    fs.mkdirSync(dir, { recursive: true });
    const args = [...start, "--daemonize", "yes", "--dir", dir];
    args.push("--logfile", path.join(dir, "redis.log"), "--pidfile", path.join(dir, "redis.pid"));
    log(`starting redis-server ${args.map(quote).join(" ")}`);
    runOrExit("redis-server", args);
    for (let i = 0; i < 50; i++) {
      if (
        await pingRedis(url, (reply) => console.error(`check-tools: Redis at ${url.host} replied: ${reply}`))
      ) {
        log(`all tools present; Redis answers at ${url.host}`);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    console.error(
      `check-tools: redis-server did not answer at ${url.host}; see ${path.join(dir, "redis.log")}`,
    );
    process.exit(1);
  }
  console.error(
    `check-tools: no Redis answers PING at ${url.host} (set BESKARYUM_TEST_REDIS_URL to use another).`,
  );
  if (local && onPath("redis-server")) {
    console.error("check-tools: start one with:");
    console.error(`  redis-server ${start.map(quote).join(" ")} --daemonize yes`);
  } else if (local) {
    console.error("check-tools: install Redis with: apt-get install -y redis-server redis-tools");
  }
  process.exit(1);
}

/** zypper and the libraries it lacks, unpacked (not installed) into `zypperDir` once. */
function unpackZypper() {
  const root = path.join(zypperDir, "root");
  if (
    fs.existsSync(path.join(root, "usr/bin/zypper")) &&
    fs.existsSync(path.join(root, "usr/bin/repo2solv.sh"))
  )
    return;
  const download = `apt-get download ${zypperPackages.join(" ")}`;
  if (process.getuid?.() !== 0 || !onPath("apt-get") || !onPath("dpkg")) {
    console.error(
      "check-tools: missing zypper (unpacked, not installed: it conflicts with dnf-plugins-core). Get it with:",
    );
    console.error(
      `  mkdir -p ${zypperDir}/debs && cd ${zypperDir}/debs && ${download} && for d in *.deb; do dpkg -x "$d" ../root; done && ln -sf repo2solv ../root/usr/bin/repo2solv.sh`,
    );
    process.exit(1);
  }
  const debs = path.join(zypperDir, "debs");
  fs.rmSync(zypperDir, { recursive: true, force: true });
  fs.mkdirSync(debs, { recursive: true });
  log(`unpacking zypper into ${root} (it conflicts with dnf-plugins-core): ${download}`);
  const fetched = spawnSync("apt-get", ["download", ...zypperPackages], { cwd: debs, stdio: "inherit" });
  if (fetched.status !== 0) {
    runOrExit("apt-get", ["update"]);
    runOrExit("apt-get", ["download", ...zypperPackages], {}, debs);
  }
  for (const deb of fs.readdirSync(debs).filter((f) => f.endsWith(".deb")))
    runOrExit("dpkg", ["-x", path.join(debs, deb), root]);
  fs.symlinkSync("repo2solv", path.join(root, "usr/bin/repo2solv.sh"));
}

function isDir(p) {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** dnf plugins are Python modules in `dnf-plugins/` of the system Python (Debian: dist-packages). */
function dnfPlugin(name) {
  return () => {
    const roots = ["/usr/lib/python3/dist-packages"];
    for (const lib of ["/usr/lib", "/usr/lib64"]) {
      try {
        for (const entry of fs.readdirSync(lib)) {
          if (/^python3(\.\d+)?$/.test(entry)) roots.push(path.join(lib, entry, "site-packages"));
        }
      } catch {
        // no such directory
      }
    }
    return roots.some((root) => fs.existsSync(path.join(root, "dnf-plugins", `${name}.py`)));
  };
}

function runOrExit(cmd, args, env = {}, cwd = undefined) {
  const res = spawnSync(cmd, args, { stdio: "inherit", cwd, env: { ...process.env, ...env } });
  if (res.status !== 0) {
    console.error(
      `check-tools: ${cmd} ${args.join(" ")} failed (${res.error?.message ?? `exit ${res.status}`})`,
    );
    process.exit(1);
  }
}

function quote(arg) {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `"${arg.replace(/(["\\$`])/g, "\\$1")}"`;
}

/** The index contract tests and the postgres e2e test create (and drop) databases on this server. */
function checkPostgres() {
  const server = process.env.BESKARYUM_TEST_POSTGRES || "postgres://postgres@127.0.0.1:5432";
  const result = spawnSync("psql", [`${server}/postgres`, "-Atc", "SELECT 1"], { encoding: "utf8" });
  if (result.status === 0) return;
  console.error(`check-tools: PostgreSQL does not answer at ${server}: ${(result.stderr || "").trim()}`);
  console.error(
    "check-tools: start it (Debian: pg_ctlcluster <version> main start) or set BESKARYUM_TEST_POSTGRES.",
  );
  process.exit(1);
}
