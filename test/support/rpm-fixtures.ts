import * as fs from "node:fs";
import * as path from "node:path";
import { runOk } from "./run.js";
import { makeTempDir } from "./tmp.js";

/** One binary RPM to build. Dependencies are written as in a spec, e.g. `"yumtest-lib >= 1.0"`. */
export interface FixtureSpec {
  name: string;
  /** Default "1.0". */
  version?: string;
  /** Default "1". */
  release?: string;
  epoch?: number;
  /** `"noarch"`, or undefined for the build host's arch (x86_64 here). */
  arch?: "noarch";
  /** Default `Test fixture <name>`. */
  summary?: string;
  /** Default `A test fixture package (<name>).` */
  description?: string;
  /** Default "MIT". */
  license?: string;
  group?: string;
  vendor?: string;
  url?: string;
  provides?: string[];
  requires?: string[];
  recommends?: string[];
  suggests?: string[];
  supplements?: string[];
  enhances?: string[];
  conflicts?: string[];
  obsoletes?: string[];
  /** Absolute install path → content. Default: one file `/usr/share/<name>/README`. No executables, so no /bin/sh. */
  files?: Record<string, string>;
  /** Paths among `files` marked `%config(noreplace)`. */
  configFiles?: string[];
  /** Changelog entries, newest first. Default one entry dated 2024-01-01. */
  changelog?: { date: string; author: string; text: string }[];
}

/** Every RPM built with `_build_name_fmt` `<name>-<version>-<release>.<arch>.rpm` straight into the output dir. */
const buildDefines = (topdir: string, outDir: string) => [
  "--define",
  `_topdir ${topdir}`,
  "--define",
  `_rpmdir ${outDir}`,
  "--define",
  "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm",
];

/**
 * Builds each spec with its own rpmbuild (two at a time) and returns the RPM paths, in the order of `specs`.
 * The packages have no scriptlets and no /bin/sh requirement, so they install into an empty installroot.
 */
export async function buildRpms(specs: FixtureSpec[], outDir: string): Promise<string[]> {
  fs.mkdirSync(outDir, { recursive: true });
  const work = makeTempDir("rpmbuild-");
  try {
    const results: string[] = new Array(specs.length);
    let next = 0;
    const worker = async () => {
      while (next < specs.length) {
        const index = next++;
        const spec = specs[index]!;
        const dir = path.join(work, `${index}-${spec.name}`);
        const stage = path.join(dir, "stage");
        const files = spec.files ?? { [`/usr/share/${spec.name}/README`]: `${spec.name} fixture\n` };
        for (const [file, content] of Object.entries(files)) {
          if (!file.startsWith("/") || file.split("/").includes(".."))
            throw new Error(`bad fixture path ${file}`);
          fs.mkdirSync(path.dirname(path.join(stage, file)), { recursive: true });
          fs.writeFileSync(path.join(stage, file), content, { mode: 0o644 });
        }
        const specFile = path.join(dir, `${spec.name}.spec`);
        fs.writeFileSync(specFile, renderSpec(spec, stage, Object.keys(files)));
        const { stdout } = await runOk(
          "rpmbuild",
          [...buildDefines(path.join(dir, "top"), outDir), "-bb", specFile],
          {
            timeoutMs: 60_000,
          },
        );
        const written = wroteLines(stdout);
        if (written.length !== 1)
          throw new Error(`rpmbuild of ${spec.name} wrote ${written.length} RPMs:\n${stdout}`);
        results[index] = written[0]!;
      }
    };
    await Promise.all([worker(), worker()]);
    return results;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function renderSpec(spec: FixtureSpec, stage: string, files: string[]): string {
  const lines = [
    "%global debug_package %{nil}",
    "%global __os_install_post %{nil}",
    `Name: ${spec.name}`,
    ...(spec.epoch === undefined ? [] : [`Epoch: ${spec.epoch}`]),
    `Version: ${spec.version ?? "1.0"}`,
    `Release: ${spec.release ?? "1"}`,
    `Summary: ${macroSafe(spec.summary ?? `Test fixture ${spec.name}`)}`,
    `License: ${macroSafe(spec.license ?? "MIT")}`,
    ...(spec.group ? [`Group: ${macroSafe(spec.group)}`] : []),
    ...(spec.vendor ? [`Vendor: ${macroSafe(spec.vendor)}`] : []),
    ...(spec.url ? [`URL: ${macroSafe(spec.url)}`] : []),
    ...(spec.arch ? [`BuildArch: ${spec.arch}`] : []),
    // No automatic requirements: nothing may pull in /bin/sh or libraries an empty installroot lacks.
    "AutoReq: no",
    ...dependencyLines(spec),
    "",
    "%description",
    macroSafe(spec.description ?? `A test fixture package (${spec.name}).`),
    "",
    "%install",
    `cp -a '${stage}/.' %{buildroot}/`,
    "",
    "%files",
    ...files.map((f) => `${spec.configFiles?.includes(f) ? "%config(noreplace) " : ""}"${macroSafe(f)}"`),
    "",
    "%changelog",
    ...(
      spec.changelog ?? [
        { date: "Mon Jan 01 2024", author: "Test User <test@example.invalid>", text: "Initial fixture" },
      ]
    ).flatMap((c) => [
      `* ${c.date} ${macroSafe(c.author)} - ${spec.version ?? "1.0"}-${spec.release ?? "1"}`,
      `- ${macroSafe(c.text)}`,
    ]),
    "",
  ];
  return lines.join("\n");
}

function dependencyLines(spec: FixtureSpec): string[] {
  const tags = [
    ["Provides", spec.provides],
    ["Requires", spec.requires],
    ["Recommends", spec.recommends],
    ["Suggests", spec.suggests],
    ["Supplements", spec.supplements],
    ["Enhances", spec.enhances],
    ["Conflicts", spec.conflicts],
    ["Obsoletes", spec.obsoletes],
  ] as const;
  return tags.flatMap(([tag, deps]) => (deps ?? []).map((dep) => `${tag}: ${macroSafe(dep)}`));
}

/** Text placed in a spec must not expand macros. */
function macroSafe(text: string): string {
  return text.replaceAll("%", "%%").replaceAll("\n", " ");
}

function wroteLines(stdout: string): string[] {
  return [...stdout.matchAll(/^Wrote: (.+\.rpm)$/gm)].map((m) => m[1]!.trim());
}

export interface StandardFixtures {
  /** `yumtest-lib-1.0-1.x86_64.rpm`: files under /usr/lib64 and /usr/share, provides `libyumtest = 1.0`. */
  lib: string;
  /** `yumtest-app-2.0-1.noarch.rpm`: `Requires: yumtest-lib >= 1.0`, `Recommends: yumtest-extra`, a %config file. */
  app: string;
  /** `yumtest-extra-1.5-2.noarch.rpm`: provides the virtual capability `yumtest-plugin(extra) = 1.5`. */
  extra: string;
  /** The three paths above, in that order. */
  all: string[];
}

/** The main end-to-end fixture set: installing `yumtest-app` pulls `yumtest-lib` and (weakly) `yumtest-extra`. */
export async function standardFixtures(outDir: string): Promise<StandardFixtures> {
  const [lib, app, extra] = await buildRpms(
    [
      {
        name: "yumtest-lib",
        version: "1.0",
        release: "1",
        summary: "Library fixture for beskar-yum tests",
        group: "System Environment/Libraries",
        vendor: "beskar-yum tests",
        provides: ["libyumtest = 1.0"],
        files: {
          "/usr/lib64/yumtest/libyumtest.data": "not really a library\n",
          "/usr/share/doc/yumtest-lib/README": "yumtest-lib fixture\n",
        },
      },
      {
        name: "yumtest-app",
        version: "2.0",
        release: "1",
        arch: "noarch",
        summary: "Application fixture for beskar-yum tests",
        requires: ["yumtest-lib >= 1.0"],
        recommends: ["yumtest-extra"],
        files: {
          "/usr/share/yumtest-app/app.txt": "yumtest-app fixture\n",
          "/etc/yumtest-app/app.conf": "key=value\n",
        },
        configFiles: ["/etc/yumtest-app/app.conf"],
        changelog: [
          { date: "Tue Jan 02 2024", author: "Test User <test@example.invalid>", text: "Version 2.0" },
          { date: "Mon Jan 01 2024", author: "Test User <test@example.invalid>", text: "Initial fixture" },
        ],
      },
      {
        name: "yumtest-extra",
        version: "1.5",
        release: "2",
        arch: "noarch",
        summary: "Optional extra fixture for beskar-yum tests",
        provides: ["yumtest-plugin(extra) = 1.5"],
        files: { "/usr/share/yumtest-extra/extra.txt": "yumtest-extra fixture\n" },
      },
    ],
    outDir,
  );
  return { lib: lib!, app: app!, extra: extra!, all: [lib!, app!, extra!] };
}

export interface ManyFixturesOptions {
  /** Package names are `<prefix><i>` with i zero-padded to 4 digits from 1. Default `yumtest-many-`. */
  prefix?: string;
  /** Default "1.0". */
  version?: string;
  /** Default "1". */
  release?: string;
}

/**
 * `n` small noarch packages from ONE rpmbuild of one spec with `n` subpackages (~7.5 ms a package;
 * TOOLS.md §2). They share one `sourcerpm`. Returns the paths sorted by name.
 */
export async function manyFixtures(
  outDir: string,
  n: number,
  opts: ManyFixturesOptions = {},
): Promise<string[]> {
  const prefix = opts.prefix ?? "yumtest-many-";
  const version = opts.version ?? "1.0";
  const release = opts.release ?? "1";
  fs.mkdirSync(outDir, { recursive: true });
  const work = makeTempDir("rpmbuild-many-");
  try {
    const names = Array.from({ length: n }, (_, i) => `${prefix}${String(i + 1).padStart(4, "0")}`);
    const lines = [
      "%global debug_package %{nil}",
      "%global __os_install_post %{nil}",
      `Name: ${prefix}set`,
      `Version: ${version}`,
      `Release: ${release}`,
      "Summary: Many small test fixtures",
      "License: MIT",
      "BuildArch: noarch",
      "AutoReq: no",
      "",
      "%description",
      "The main package has no %files, so rpmbuild writes only the subpackages.",
      "",
    ];
    for (const name of names) {
      lines.push(
        `%package -n ${name}`,
        `Summary: Test fixture ${name}`,
        "",
        `%description -n ${name}`,
        `Test fixture ${name}.`,
        "",
      );
    }
    lines.push("%install", "mkdir -p %{buildroot}/usr/share/yumtest-many");
    for (const name of names) lines.push(`echo ${name} > %{buildroot}/usr/share/yumtest-many/${name}.txt`);
    lines.push("");
    for (const name of names) lines.push(`%files -n ${name}`, `/usr/share/yumtest-many/${name}.txt`, "");
    const specFile = path.join(work, "many.spec");
    fs.writeFileSync(specFile, lines.join("\n"));
    await runOk("rpmbuild", ["--quiet", ...buildDefines(path.join(work, "top"), outDir), "-bb", specFile], {
      timeoutMs: 60_000 + n * 50,
    });
    const paths = names.map((name) => path.join(outDir, `${name}-${version}-${release}.noarch.rpm`));
    const missing = paths.filter((p) => !fs.existsSync(p));
    if (missing.length > 0)
      throw new Error(`rpmbuild did not write ${missing.length} RPMs, e.g. ${missing[0]}`);
    return paths;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
