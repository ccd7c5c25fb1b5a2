import { type Attrs, parsePackageRecords, type RecordBuilder } from "./metadata-stream.js";

/** What a mirror needs to know of one upstream package: where it is and what it must hash to. */
export interface UpstreamPackage {
  name: string;
  arch: string;
  epoch: string;
  version: string;
  release: string;
  checksum: { type: string; value: string };
  /** `<size package>`: the RPM file's size in bytes. */
  size: number;
  href: string;
  /** `<location xml:base>`, when upstream points elsewhere. */
  base?: string;
}

const checksumTypes = new Set(["sha1", "sha", "sha256", "sha512", "sha384", "sha224", "md5"]);

/** Keeps only the fields of one `<package>` a mirror needs; `finish` says what is missing. */
export class UpstreamPackageBuilder implements RecordBuilder<UpstreamPackage> {
  private readonly p: Partial<UpstreamPackage> = {};

  open(name: string, attrs: Attrs): void {
    const p = this.p;
    if (name === "version") {
      p.epoch = attrs.epoch ?? "0";
      p.version = attrs.ver ?? "";
      p.release = attrs.rel ?? "";
    } else if (name === "checksum") p.checksum = { type: attrs.type ?? "", value: "" };
    else if (name === "size") p.size = Number(attrs.package);
    else if (name === "location") {
      p.href = attrs.href;
      if (attrs["xml:base"] !== undefined) p.base = attrs["xml:base"];
    }
  }

  close(name: string, text: string): void {
    if (name === "name") this.p.name = text.trim();
    else if (name === "arch") this.p.arch = text.trim();
    else if (name === "checksum" && this.p.checksum) this.p.checksum.value = text.trim().toLowerCase();
  }

  finish(): UpstreamPackage {
    const p = this.p;
    if (!p.name) throw new Error("missing <name>");
    if (!p.href) throw new Error(`${p.name}: missing <location href>`);
    if (!p.checksum?.value || !/^[0-9a-f]{32,128}$/.test(p.checksum.value)) {
      throw new Error(`${p.name}: missing or malformed <checksum>`);
    }
    if (!checksumTypes.has(p.checksum.type)) {
      throw new Error(`${p.name}: unsupported checksum type "${p.checksum.type}"`);
    }
    if (p.size === undefined || !Number.isSafeInteger(p.size) || p.size < 0) {
      throw new Error(`${p.name}: missing or malformed <size package>`);
    }
    return {
      name: own(p.name),
      arch: own(p.arch ?? ""),
      epoch: own(p.epoch ?? "0"),
      version: own(p.version ?? ""),
      release: own(p.release ?? ""),
      checksum: { type: own(p.checksum.type), value: own(p.checksum.value) },
      size: p.size,
      href: own(p.href),
      ...(p.base !== undefined ? { base: own(p.base) } : {}),
    };
  }
}

/**
 * A copy of `s` that holds its own characters. The parser's attribute values and texts are slices
 * of the decompressed chunk they were read from (V8's sliced strings: a pointer into the whole
 * chunk), so one href kept by a caller (a sync keeps every href it has seen) kept its whole chunk
 * alive: a 50,000-package sync held all of its 48 MB primary.xml. Concatenating flattens into a
 * new string of `s`'s length plus one, whose slice refers to that string only (~0.15 µs).
 */
function own(s: string): string {
  return ` ${s}`.slice(1);
}

/**
 * Streams the `<package>` entries of a decompressed primary.xml with bounded memory, keeping only
 * what a mirror needs (`parsePackageRecords`: a DOCTYPE, and so any entity declaration, is
 * refused; saxes expands only XML's own five entities, so entity bombs cannot work).
 *
 * `onCount` receives the `packages` attribute of `<metadata>` when it is seen.
 */
export function readUpstreamPrimary(
  source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  onCount?: (count: number) => void,
): AsyncGenerator<UpstreamPackage> {
  return parsePackageRecords(source, "metadata", () => new UpstreamPackageBuilder(), {
    name: "primary.xml",
    ...(onCount ? { onCount } : {}),
  });
}
