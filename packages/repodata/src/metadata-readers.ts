import type { MetadataSource } from "./metadata-decompress.js";
import {
  type ChangelogRecord,
  dependencyKinds,
  type FilelistsRecord,
  type OtherRecord,
  type PrimaryRecord,
  type RecordDependency,
  type RecordDependencyKind,
  type RecordFile,
  type RecordVersion,
} from "./metadata-records.js";
import {
  type Attrs,
  integerAttr,
  type ReadMetadataOptions,
  type RecordBuilder,
  readPackageRecords,
} from "./metadata-stream.js";

function version(a: Attrs): RecordVersion {
  return { epoch: a.epoch ?? "0", ver: a.ver ?? "", rel: a.rel ?? "" };
}

function fileType(a: Attrs): RecordFile["type"] {
  const t = a.type ?? "file";
  if (t !== "file" && t !== "dir" && t !== "ghost")
    throw new Error(`<file type="${t}">: file, dir or ghost expected`);
  return t;
}

function required(value: string | undefined, what: string): string {
  if (!value) throw new Error(`missing ${what}`);
  return value;
}

function dependency(a: Attrs): RecordDependency {
  const d: RecordDependency = { name: required(a.name, "<rpm:entry name>") };
  if (a.flags !== undefined) d.flags = a.flags;
  if (a.epoch !== undefined) d.epoch = a.epoch;
  if (a.ver !== undefined) d.ver = a.ver;
  if (a.rel !== undefined) d.rel = a.rel;
  if (a.pre === "1") d.pre = true;
  return d;
}

const kindByElement = new Map<string, RecordDependencyKind>(dependencyKinds.map((k) => [`rpm:${k}`, k]));

class PrimaryBuilder implements RecordBuilder<PrimaryRecord> {
  private readonly r: Partial<PrimaryRecord> & Pick<PrimaryRecord, "dependencies" | "files">;
  private kind: RecordDependencyKind | undefined;
  private fileAttrs: Attrs = {};

  constructor(attrs: Attrs) {
    const dependencies = Object.fromEntries(dependencyKinds.map((k) => [k, []])) as unknown as Record<
      RecordDependencyKind,
      RecordDependency[]
    >;
    this.r = { type: attrs.type ?? "rpm", dependencies, files: [] };
  }

  open(name: string, a: Attrs): void {
    const r = this.r;
    switch (name) {
      case "version":
        r.version = version(a);
        break;
      case "checksum":
        r.checksumType = a.type ?? "";
        break;
      case "time":
        r.time = { file: integerAttr(a, "file", name), build: integerAttr(a, "build", name) };
        break;
      case "size":
        r.size = {
          package: integerAttr(a, "package", name),
          installed: integerAttr(a, "installed", name),
          archive: integerAttr(a, "archive", name),
        };
        break;
      case "location":
        r.location = { href: required(a.href, "<location href>") };
        if (a["xml:base"] !== undefined) r.location.base = a["xml:base"];
        break;
      case "rpm:header-range":
        r.headerRange = { start: integerAttr(a, "start", name), end: integerAttr(a, "end", name) };
        break;
      case "rpm:entry":
        if (!this.kind) throw new Error("<rpm:entry> outside a dependency list");
        r.dependencies[this.kind].push(dependency(a));
        break;
      case "file":
        this.fileAttrs = a;
        break;
      default:
        this.kind = kindByElement.get(name) ?? this.kind;
    }
  }

  close(name: string, text: string): void {
    const r = this.r;
    switch (name) {
      case "name":
        r.name = text.trim();
        break;
      case "arch":
        r.arch = text.trim();
        break;
      case "checksum":
        r.pkgid = text.trim();
        break;
      case "summary":
      case "description":
      case "packager":
      case "url":
        r[name] = text;
        break;
      case "rpm:license":
      case "rpm:vendor":
      case "rpm:group":
      case "rpm:buildhost":
      case "rpm:sourcerpm":
        r[name.slice(4) as "license"] = text;
        break;
      case "file":
        r.files.push({ path: text, type: fileType(this.fileAttrs) });
        break;
      default:
        if (kindByElement.has(name)) this.kind = undefined;
    }
  }

  finish(): PrimaryRecord {
    const r = this.r;
    const name = required(r.name, "<name>");
    return {
      type: r.type ?? "rpm",
      name,
      arch: r.arch ?? "",
      version: r.version ?? version({}),
      pkgid: required(r.pkgid, `<checksum> of ${name}`),
      checksumType: r.checksumType ?? "",
      summary: r.summary ?? "",
      description: r.description ?? "",
      packager: r.packager ?? "",
      url: r.url ?? "",
      time: r.time ?? { file: 0, build: 0 },
      size: r.size ?? { package: 0, installed: 0, archive: 0 },
      location: r.location ?? { href: required(undefined, `<location> of ${name}`) },
      license: r.license ?? "",
      vendor: r.vendor ?? "",
      group: r.group ?? "",
      buildhost: r.buildhost ?? "",
      sourcerpm: r.sourcerpm ?? "",
      headerRange: r.headerRange ?? { start: 0, end: 0 },
      dependencies: r.dependencies,
      files: r.files,
    };
  }
}

/** What filelists and other share: `<package pkgid name arch>` and `<version>`. */
abstract class PkgidBuilder<T> implements RecordBuilder<T> {
  protected readonly pkgid: string;
  protected readonly name: string;
  protected readonly arch: string;
  protected version: RecordVersion = version({});
  protected attrs: Attrs = {};

  constructor(a: Attrs) {
    this.pkgid = required(a.pkgid, "<package pkgid>");
    this.name = required(a.name, "<package name>");
    this.arch = a.arch ?? "";
  }

  open(name: string, a: Attrs): void {
    if (name === "version") this.version = version(a);
    else this.attrs = a;
  }

  abstract close(name: string, text: string): void;
  abstract finish(): T;
}

class FilelistsBuilder extends PkgidBuilder<FilelistsRecord> {
  private readonly files: RecordFile[] = [];
  close(name: string, text: string): void {
    if (name === "file") this.files.push({ path: text, type: fileType(this.attrs) });
  }
  finish(): FilelistsRecord {
    const { pkgid, name, arch, version, files } = this;
    return { pkgid, name, arch, version, files };
  }
}

class OtherBuilder extends PkgidBuilder<OtherRecord> {
  private readonly changelogs: ChangelogRecord[] = [];
  close(name: string, text: string): void {
    if (name !== "changelog") return;
    this.changelogs.push({
      author: this.attrs.author ?? "",
      date: integerAttr(this.attrs, "date", "changelog"),
      text,
    });
  }
  finish(): OtherRecord {
    const { pkgid, name, arch, version, changelogs } = this;
    return { pkgid, name, arch, version, changelogs };
  }
}

/** The packages of a primary.xml (gz, xz, zstd, bz2 or plain; a path or a byte stream), streamed. */
export function readPrimary(
  source: MetadataSource,
  opts?: ReadMetadataOptions,
): AsyncGenerator<PrimaryRecord> {
  return readPackageRecords(source, "metadata", (a) => new PrimaryBuilder(a), opts);
}

/** The packages of a filelists.xml, streamed: one package's files in memory at a time. */
export function readFilelists(
  source: MetadataSource,
  opts?: ReadMetadataOptions,
): AsyncGenerator<FilelistsRecord> {
  return readPackageRecords(source, "filelists", (a) => new FilelistsBuilder(a), opts);
}

/** The packages of an other.xml, streamed. */
export function readOther(source: MetadataSource, opts?: ReadMetadataOptions): AsyncGenerator<OtherRecord> {
  return readPackageRecords(source, "otherdata", (a) => new OtherBuilder(a), opts);
}
