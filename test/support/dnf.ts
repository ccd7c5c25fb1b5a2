import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { describeFailure, type RunResult, run } from "./run.js";
import { makeTempDir } from "./tmp.js";

export interface DnfOptions {
  /** URL (or local file) of the key that signs the packages: turns on `gpgcheck=1`. Without it: `--nogpgcheck`. */
  gpgkey?: string;
  /** Also verify `repomd.xml.asc` (`repo_gpgcheck=1`); needs `gpgkey`. */
  repoGpgcheck?: boolean;
  /** dnf's `install_weak_deps`. Default true (dnf's default): Recommends are installed. */
  installWeakDeps?: boolean;
  /** Extra arguments placed before each command (e.g. `--setopt=t.username=u`). */
  extraArgs?: string[];
  /** Per-command timeout. Default 120000. */
  timeoutMs?: number;
}

export interface Dnf {
  /** The fresh installroot; packages land here (`rpm --root <installroot> -qa`). */
  readonly installroot: string;
  /** The host-side metadata cache. */
  readonly cachedir: string;
  /** The full flag set for the repository `t`, then `args`. Throws (with stdout/stderr) when dnf exits non-zero. */
  run(args: string[]): Promise<RunResult>;
  makecache(): Promise<RunResult>;
  install(pkgs: string[]): Promise<RunResult>;
  /** `dnf -q repoquery <args>`: the non-empty output lines. */
  repoquery(args: string[]): Promise<string[]>;
  /** `rpm --root <installroot> -qa --qf '%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}'`, sorted. */
  installed(): Promise<string[]>;
}

/**
 * A dnf client for the one repository at `baseUrl` (named `t`), with its own temporary installroot and
 * cache, and the flags TOOLS.md §4 calls for: a broken repository fails instead of being skipped,
 * no system repositories, no scriptlets, metadata re-checked on every command.
 */
export function makeDnf(baseUrl: string, opts: DnfOptions = {}): Dnf {
  const installroot = makeTempDir("dnf-root-");
  const cachedir = makeTempDir("dnf-cache-");
  const gpg: string[] = [];
  if (opts.gpgkey === undefined) {
    if (opts.repoGpgcheck) throw new Error("makeDnf: repoGpgcheck needs gpgkey");
    gpg.push("--nogpgcheck");
  } else {
    const key = /^[a-z]+:\/\//.test(opts.gpgkey)
      ? opts.gpgkey
      : pathToFileURL(path.resolve(opts.gpgkey)).href;
    gpg.push("--setopt=t.gpgcheck=1", `--setopt=t.gpgkey=${key}`);
    if (opts.repoGpgcheck) gpg.push("--setopt=t.repo_gpgcheck=1");
  }
  const flags = [
    `--installroot=${installroot}`,
    "--releasever=1",
    "--setopt=reposdir=/dev/null",
    "--setopt=skip_if_unavailable=False",
    `--setopt=cachedir=${cachedir}`,
    "--setopt=metadata_expire=0",
    "--setopt=tsflags=noscripts",
    ...(opts.installWeakDeps === false ? ["--setopt=install_weak_deps=False"] : []),
    `--repofrompath=t,${baseUrl}`,
    "--repo=t",
    ...gpg,
    "-y",
    ...(opts.extraArgs ?? []),
  ];

  const dnf = async (args: string[]): Promise<RunResult> => {
    const all = [...flags, ...args];
    const result = await run("dnf", all, { timeoutMs: opts.timeoutMs ?? 120_000 });
    if (result.code !== 0) throw new Error(describeFailure(`dnf ${all.join(" ")}`, result));
    return result;
  };

  return {
    installroot,
    cachedir,
    run: dnf,
    makecache: () => dnf(["makecache"]),
    install: (pkgs) => dnf(["install", ...pkgs]),
    repoquery: async (args) => lines((await dnf(["-q", "repoquery", ...args])).stdout),
    installed: async () => {
      const qf = "%{NAME}-%{VERSION}-%{RELEASE}.%{ARCH}\\n";
      const result = await run("rpm", ["--root", installroot, "-qa", "--qf", qf]);
      if (result.code !== 0) throw new Error(describeFailure(`rpm --root ${installroot} -qa`, result));
      return lines(result.stdout).sort();
    },
  };
}

function lines(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
}

/**
 * dnf as a user runs it: the `.repo` file a server gave in its reposdir, dnf.conf's defaults
 * otherwise (gpgcheck on, keys imported from `gpgkey` after asking: `--assumeyes`), in an installroot
 * and cache of its own. Returns the result whatever the exit code.
 */
export async function dnfWithRepoFile(repoFile: string, args: string[]) {
  const reposdir = makeTempDir("dnf-reposdir-");
  writeFileSync(path.join(reposdir, "served.repo"), repoFile);
  const all = [
    `--installroot=${makeTempDir("dnf-root-")}`,
    "--releasever=1",
    `--setopt=reposdir=${reposdir}`,
    `--setopt=cachedir=${makeTempDir("dnf-cache-")}`,
    "--setopt=skip_if_unavailable=False",
    "--setopt=tsflags=noscripts",
    // dnf-plugins-core's `local` plugin (installed with it on Debian) adds a repository of its own
    // after each transaction, with gpgcheck=1 and no key: it is no part of what is tested.
    "--disableplugin=local",
    "--assumeyes",
    ...args,
  ];
  return run("dnf", all, { timeoutMs: 180_000 });
}
