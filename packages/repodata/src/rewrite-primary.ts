import { isYumError } from "@beskar-yum/errors";
import type { SaxesTagPlain } from "saxes";
import { type PackageHref, rewriteLocationTag } from "./location-tag.js";
import { SafeXmlParser } from "./safe-xml.js";
import { type UpstreamPackage, UpstreamPackageBuilder } from "./upstream-primary-reader.js";

/** What becomes of one package: kept as written, left out, or kept with its `<location>` changed. */
export type PackageDecision = "keep" | "drop" | PackageHref;

/**
 * Decides the fate of each `<package>` of a primary.xml. It must be a pure function of the
 * package (deterministic): a document from which packages are dropped is read twice (see
 * `rewritePrimary`), and a re-sync of an unchanged upstream must give the same bytes.
 */
export type PackageTransform = (pkg: UpstreamPackage) => PackageDecision;

export interface RewritePrimaryOptions {
  /** Names the document in errors. Default "primary.xml". */
  name?: string;
  /** Writes this in `packages=` of `<metadata>` (when upstream wrote one): the count once some are dropped. */
  packages?: number;
  /** Longest `<package>` element accepted, in characters. Default 32 Mi. */
  maxPackageChars?: number;
  /** Longest text of one element inside a package, in characters. Default 4 Mi. */
  maxTextLength?: number;
}

/** What a rewrite did, filled in as its output is read. */
export interface RewriteSummary {
  /** `packages=` of upstream's `<metadata>`, when it had one. */
  declared: number | undefined;
  kept: number;
  dropped: number;
  /** Kept with a changed `<location>` (counted in `kept` too). */
  rewritten: number;
}

/** Trailing whitespace between packages is held back at most this long (it goes with a dropped package). */
const maxHeldWhitespace = 1024 * 1024;

/**
 * The per-package rewriting step of upstream metadata, streamed: upstream's primary.xml (already
 * decompressed, as bytes or text) comes in, the same document comes out with each package as
 * `transform` decides: kept byte for byte, dropped (with the whitespace before it), or kept with
 * only its `<location>` start tag changed (`rewriteLocationTag`: one attribute, the rest as
 * written). There is no DOM: memory is bounded by one package (`maxPackageChars`) and one chunk,
 * whatever the number of packages.
 *
 * Mirrors use it to serve packages that upstream lists under `xml:base` (the base is dropped: they
 * are served from here); mirror include/exclude filters are meant to reuse it with a transform that
 * drops packages. Dropping changes `packages=` of `<metadata>`, which comes first: the caller reads
 * the document a second time with `packages` set to `summary.kept` when `summary.dropped > 0`.
 * (Filters will also have to drop the same packages from filelists.xml and other.xml, by pkgid.)
 *
 * The input must be UTF-8 (as createrepo writes it; invalid bytes are refused, so that what is not
 * rewritten stays byte-identical) and passes the rules of every reader: `SafeXmlParser`'s DOCTYPE
 * rule (no internal subset, so no entity bombs), well-formedness, a `<metadata>` root of `<package>`
 * elements, each with what `readUpstreamPrimary` requires. Throws REPODATA_INVALID naming the line;
 * an error `transform` throws with a code of ours (e.g. UPSTREAM_BAD_HREF) is thrown as it is.
 */
export function rewritePrimary(
  chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  transform: PackageTransform,
  options: RewritePrimaryOptions = {},
): { output: AsyncGenerator<string>; summary: RewriteSummary } {
  const rewrite = new PrimaryRewrite(transform, options);
  return { output: rewrite.run(chunks), summary: rewrite.summary };
}

/** One `<package>` being read: where it starts (with the whitespace before it), and its `<location>`. */
interface OpenPackage {
  /** Absolute offset of the whitespace before `<package`: a dropped package takes it along. */
  unitStart: number;
  builder: UpstreamPackageBuilder;
  location?: { start: number; end: number };
}

/**
 * The state of one rewrite. `text` holds the input from absolute offset `base` on; everything
 * before `emitted` has been decided (pushed to `out` or dropped). saxes reports, with each start
 * and end tag, the offset just past its `>`; a start tag begins at the last `<` before that (a `<`
 * cannot appear inside a tag), so each tag is cut out of `text` as written.
 */
class PrimaryRewrite {
  readonly summary: RewriteSummary = { declared: undefined, kept: 0, dropped: 0, rewritten: 0 };
  private readonly safe: SafeXmlParser;
  private readonly decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  private text = "";
  private base = 0;
  private emitted = 0;
  private out: string[] = [];
  private depth = 0;
  private pkg: OpenPackage | undefined;
  private elementText = "";
  /** An error of ours thrown by `transform`: thrown as it is rather than as REPODATA_INVALID. */
  private thrown: unknown;

  constructor(
    private readonly transform: PackageTransform,
    private readonly options: RewritePrimaryOptions,
  ) {
    this.safe = new SafeXmlParser(options.name ?? "primary.xml");
    const { parser } = this.safe;
    parser.on("opentag", (tag) => this.guard(() => this.open(tag)));
    parser.on("closetag", (tag) => this.guard(() => this.close(tag)));
    const onText = (chunk: string) => {
      if (!this.pkg || this.safe.failure) return;
      this.elementText += chunk;
      const max = this.options.maxTextLength ?? 4 * 1024 * 1024;
      if (this.elementText.length > max) this.safe.fail(`text longer than ${max} characters`);
    };
    parser.on("text", onText);
    parser.on("cdata", onText);
  }

  async *run(
    chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  ): AsyncGenerator<string> {
    for await (const chunk of chunks) {
      this.write(typeof chunk === "string" ? chunk : this.decode(chunk, true));
      if (this.out.length > 0) yield this.out.splice(0).join("");
    }
    this.write(this.decode(new Uint8Array(0), false));
    this.safe.close();
    this.rethrow();
    if (this.depth !== 0) throw this.safe.invalid("document ends early");
    this.emitTo(this.base + this.text.length);
    yield this.out.splice(0).join("");
  }

  private decode(bytes: Uint8Array, stream: boolean): string {
    try {
      return this.decoder.decode(bytes, { stream });
    } catch {
      throw this.safe.invalid("not UTF-8");
    }
  }

  private write(chunk: string): void {
    if (chunk === "") return;
    this.text += chunk;
    this.safe.write(chunk);
    this.rethrow();
    const end = this.base + this.text.length;
    if (this.pkg) {
      const max = this.options.maxPackageChars ?? 32 * 1024 * 1024;
      if (end - this.pkg.unitStart > max)
        throw this.safe.invalid(`a <package> longer than ${max} characters`);
    } else {
      this.emitTo(this.heldFrom());
    }
    // What is decided is let go of; an open package stays whole until its end tag.
    const keepFrom = this.pkg ? this.pkg.unitStart : this.emitted;
    this.text = this.text.slice(keepFrom - this.base);
    this.base = keepFrom;
  }

  /**
   * Between packages, what may still be needed: a tag not finished yet (from its `<`) and the
   * whitespace before it, which goes with the next package if that one is dropped.
   */
  private heldFrom(): number {
    const pending = this.text.slice(this.emitted - this.base);
    const lt = pending.lastIndexOf("<");
    const before = lt === -1 ? pending : pending.slice(0, lt);
    const kept = before.trimEnd().length;
    const held = lt === -1 ? pending.length - kept : lt - kept;
    return this.emitted + (held > maxHeldWhitespace ? before.length : kept);
  }

  private emitTo(offset: number): void {
    if (offset <= this.emitted) return;
    this.out.push(this.text.slice(this.emitted - this.base, offset - this.base));
    this.emitted = offset;
  }

  /** Where the start tag ending at `end` begins. */
  private tagStart(end: number): number {
    return this.base + this.text.lastIndexOf("<", end - 1 - this.base);
  }

  private guard(handler: () => void): void {
    if (this.safe.failure || this.thrown) return;
    try {
      handler();
    } catch (err) {
      if (isYumError(err) && err.code !== "REPODATA_INVALID") this.thrown = err;
      else this.safe.fail((err as Error).message);
    }
  }

  private rethrow(): void {
    if (this.thrown) throw this.thrown;
  }

  private open(tag: SaxesTagPlain): void {
    const depth = ++this.depth;
    const end = this.safe.parser.position;
    const attrs = tag.attributes as Record<string, string>;
    this.elementText = "";
    if (depth === 1) {
      this.openRoot(tag.name, attrs, end);
      return;
    }
    if (depth === 2) {
      if (tag.name !== "package") throw new Error(`<package> expected, got <${tag.name}>`);
      const start = this.tagStart(end);
      const gap = this.text.slice(this.emitted - this.base, start - this.base);
      this.emitTo(this.emitted + gap.trimEnd().length);
      this.pkg = { unitStart: this.emitted, builder: new UpstreamPackageBuilder() };
      return;
    }
    const pkg = this.pkg!;
    if (depth === 3 && tag.name === "location") {
      if (pkg.location) throw new Error("more than one <location> in a <package>");
      pkg.location = { start: this.tagStart(end), end };
    }
    pkg.builder.open(tag.name, attrs);
  }

  private openRoot(name: string, attrs: Record<string, string>, end: number): void {
    if (name !== "metadata") throw new Error(`<metadata> expected, got <${name}>`);
    if (attrs.packages === undefined) return;
    this.summary.declared = Number(attrs.packages);
    const count = this.options.packages;
    if (count === undefined) return;
    const start = this.tagStart(end);
    this.emitTo(start);
    const tag = this.text.slice(start - this.base, end - this.base);
    this.out.push(tag.replace(/(\spackages\s*=\s*)(["'])[^"']*\2/, `$1$2${count}$2`));
    this.emitted = end;
  }

  private close(tag: SaxesTagPlain): void {
    const depth = this.depth--;
    const pkg = this.pkg;
    if (!pkg) return;
    if (depth > 2) {
      pkg.builder.close(tag.name, this.elementText);
      this.elementText = "";
      return;
    }
    this.pkg = undefined;
    this.finishPackage(pkg, pkg.builder.finish(), this.safe.parser.position);
  }

  private finishPackage(pkg: OpenPackage, upstream: UpstreamPackage, end: number): void {
    const decision = this.transform(upstream);
    const slice = (from: number, to: number) => this.text.slice(from - this.base, to - this.base);
    if (decision === "drop") {
      this.summary.dropped++;
      this.emitted = end;
      return;
    }
    this.summary.kept++;
    if (decision === "keep" || !pkg.location) {
      this.emitTo(end);
      return;
    }
    const { start, end: locationEnd } = pkg.location;
    this.summary.rewritten++;
    this.out.push(
      slice(this.emitted, start),
      rewriteLocationTag(slice(start, locationEnd), decision),
      slice(locationEnd, end),
    );
    this.emitted = end;
  }
}
