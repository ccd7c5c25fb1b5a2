import { StringDecoder } from "node:string_decoder";
import { YumError } from "@beskar-yum/errors";
import { SaxesParser, type SaxesTagPlain } from "saxes";
import {
  type DecompressOptions,
  decompressMetadataStream,
  type MetadataSource,
} from "./metadata-decompress.js";

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
 * `decompressMetadataStream`) with memory bounded by one package and one decompressed chunk. A
 * DOCTYPE is refused, so no entity is ever declared; saxes expands only XML's own five.
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
  const parser = new SaxesParser({ xmlns: false, position: true });
  const invalid = (message: string) =>
    new YumError("REPODATA_INVALID", `${name}: line ${parser.line}: ${message}`, { file: name });
  const ready: T[] = [];
  let failure: Error | undefined;
  let depth = 0;
  let current: RecordBuilder<T> | undefined;
  let elements = 0;
  let text = "";

  parser.on("doctype", () => {
    failure ??= invalid("DOCTYPE declarations are not accepted");
  });
  parser.on("error", (err) => {
    failure ??= invalid(err.message);
  });
  parser.on("opentag", (tag: SaxesTagPlain) => {
    depth++;
    const attrs = tag.attributes as Attrs;
    if (depth === 1) {
      if (tag.name !== root) failure ??= invalid(`<${root}> expected, got <${tag.name}>`);
      else if (attrs.packages !== undefined) opts.onCount?.(Number(attrs.packages));
      return;
    }
    text = "";
    if (depth === 2) {
      if (tag.name !== "package") failure ??= invalid(`<package> expected, got <${tag.name}>`);
      else {
        current = builder(attrs);
        elements = 0;
      }
    } else if (current) {
      if (++elements > maxElements) failure ??= invalid(`more than ${maxElements} elements in one <package>`);
      else current.open(tag.name, attrs);
    }
  });
  const onText = (chunk: string) => {
    if (!current || depth < 3) return;
    text += chunk;
    if (text.length > maxText) {
      failure ??= invalid(`text longer than ${maxText} characters`);
      text = "";
    }
  };
  parser.on("text", onText);
  parser.on("cdata", onText);
  parser.on("closetag", (tag: SaxesTagPlain) => {
    depth--;
    if (!current || failure) return;
    if (depth === 1) {
      try {
        ready.push(current.finish());
      } catch (err) {
        failure ??= invalid((err as Error).message);
      }
      current = undefined;
    } else {
      current.close(tag.name, text);
      text = "";
    }
  });

  const decoder = new StringDecoder("utf8");
  for await (const chunk of chunks) {
    parser.write(typeof chunk === "string" ? chunk : decoder.write(chunk));
    if (failure) throw failure;
    if (ready.length > 0) yield* ready.splice(0);
  }
  parser.write(decoder.end());
  parser.close();
  if (failure) throw failure;
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
