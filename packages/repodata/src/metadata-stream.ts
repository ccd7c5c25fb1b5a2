import type { SaxesTagPlain } from "saxes";
import {
  type DecompressOptions,
  decompressMetadataStream,
  type MetadataSource,
} from "./metadata-decompress.js";
import { SafeXmlParser } from "./safe-xml.js";

export interface ReadMetadataOptions extends DecompressOptions {
  /** Receives `packages=` of the root element when it is seen. */
  onCount?: (count: number) => void;
  /** Longest text of one element (a description, a changelog, a path), in characters. Default 4 Mi. */
  maxTextLength?: number;
  /** Most elements inside one `<package>` (files, entries, changelogs). Default 4 Mi. */
  maxElementsPerPackage?: number;
}

/** Builds one record from the elements inside one `<package>`. */
export interface RecordBuilder<T> {
  open(name: string, attrs: Record<string, string>): void;
  close(name: string, text: string): void;
  finish(): T;
}

export type Attrs = Record<string, string>;

/**
 * Streams the `<package>` records of a metadata document (any compression, see
 * `decompressMetadataStream`) with memory bounded by one package and one decompressed chunk. The
 * DOCTYPE rule of `SafeXmlParser` applies: no entity is ever declared, and no DTD is loaded.
 */
export function readPackageRecords<T>(
  source: MetadataSource,
  root: string,
  builder: (attrs: Attrs) => RecordBuilder<T>,
  opts: ReadMetadataOptions = {},
): AsyncGenerator<T> {
  const name = opts.name ?? (typeof source === "string" ? source : root);
  return parsePackageRecords(decompressMetadataStream(source, opts), root, builder, { ...opts, name });
}

/**
 * `readPackageRecords` over bytes already decompressed (and counted) by the caller: a mirror
 * decompresses upstream's files itself, checking their declared open-size and open-checksum.
 */
export async function* parsePackageRecords<T>(
  chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  root: string,
  builder: (attrs: Attrs) => RecordBuilder<T>,
  opts: Omit<ReadMetadataOptions, keyof DecompressOptions> & { name?: string } = {},
): AsyncGenerator<T> {
  const name = opts.name ?? root;
  const maxText = opts.maxTextLength ?? 4 * 1024 * 1024;
  const maxElements = opts.maxElementsPerPackage ?? 4 * 1024 * 1024;
  const safe = new SafeXmlParser(name);
  const { parser } = safe;
  const invalid = (message: string) => safe.invalid(message);
  const ready: T[] = [];
  let depth = 0;
  let current: RecordBuilder<T> | undefined;
  let elements = 0;
  let text = "";
  const fail = (message: string) => safe.fail(message);
  parser.on("opentag", (tag: SaxesTagPlain) => {
    depth++;
    const attrs = tag.attributes as Attrs;
    if (depth === 1) {
      if (tag.name !== root) fail(`<${root}> expected, got <${tag.name}>`);
      else if (attrs.packages !== undefined) opts.onCount?.(Number(attrs.packages));
      return;
    }
    text = "";
    if (depth === 2) {
      if (tag.name !== "package") fail(`<package> expected, got <${tag.name}>`);
      else {
        current = builder(attrs);
        elements = 0;
      }
    } else if (current) {
      if (++elements > maxElements) fail(`more than ${maxElements} elements in one <package>`);
      else current.open(tag.name, attrs);
    }
  });
  const onText = (chunk: string) => {
    if (!current || depth < 3) return;
    text += chunk;
    if (text.length > maxText) {
      fail(`text longer than ${maxText} characters`);
      text = "";
    }
  };
  parser.on("text", onText);
  parser.on("cdata", onText);
  parser.on("closetag", (tag: SaxesTagPlain) => {
    depth--;
    if (!current || safe.failure) return;
    if (depth === 1) {
      try {
        ready.push(current.finish());
      } catch (err) {
        fail((err as Error).message);
      }
      current = undefined;
    } else {
      current.close(tag.name, text);
      text = "";
    }
  });

  for await (const chunk of chunks) {
    safe.write(chunk);
    if (ready.length > 0) yield* ready.splice(0);
  }
  safe.close();
  if (depth !== 0) throw invalid("document ends early");
  yield* ready.splice(0);
}

/** A whole number attribute; `where` names it in the error. */
export function integerAttr(attrs: Attrs, key: string, where: string): number {
  const v = attrs[key];
  if (v === undefined || !/^-?\d+$/.test(v))
    throw new Error(`<${where} ${key}>: integer expected, got ${JSON.stringify(v)}`);
  return Number(v);
}
