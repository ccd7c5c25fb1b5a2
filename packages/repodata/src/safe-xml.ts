import { StringDecoder } from "node:string_decoder";
import { YumError } from "@beskar-yum/errors";
import { SaxesParser, type SaxesTagPlain } from "saxes";

const xmlName = `[A-Za-z_:][-A-Za-z0-9._:]*`;
const systemLiteral = `(?:"[^"]*"|'[^']*')`;
const pubidLiteral = String.raw`(?:"[-a-zA-Z0-9 \r\n'()+,./:=?;!*#@$_%]*"|'[-a-zA-Z0-9 \r\n()+,./:=?;!*#@$_%]*')`;
/** `<!DOCTYPE name>`, `<!DOCTYPE name SYSTEM "uri">` or `<!DOCTYPE name PUBLIC "pubid" "uri">`: no `[...]`. */
const externalOnly = new RegExp(
  String.raw`^\s*${xmlName}(?:\s+(?:SYSTEM\s+${systemLiteral}|PUBLIC\s+${pubidLiteral}\s+${systemLiteral}))?\s*$`,
);

/**
 * The one DOCTYPE rule of every XML reader (repomd.xml, upstream metadata, uploaded extra metadata,
 * metalinks): a DOCTYPE that only names an external DTD is accepted, as every Fedora/RHEL comps.xml
 * has one (`<!DOCTYPE comps PUBLIC "-//Red Hat, Inc.//DTD Comps info//EN" "comps.dtd">`); that DTD is
 * never loaded (saxes loads none). An internal subset (`[ ... ]`) is refused: it is where entities
 * are declared, and so where entity bombs live. Without any declared entity, saxes expands only
 * XML's own five. Returns why `doctype` (the text between `<!DOCTYPE` and `>`) is refused, if it is.
 */
export function doctypeProblem(doctype: string): string | undefined {
  if (externalOnly.test(doctype)) return undefined;
  if (doctype.includes("[")) {
    return "DOCTYPE declarations are not accepted with an internal subset ([...], where entities are declared)";
  }
  return "DOCTYPE declarations are not accepted unless they only name an external DTD";
}

export interface SafeXmlParserOptions {
  /** Put before the line of the parser's own (syntax) errors, e.g. "not well-formed XML: ". */
  syntaxPrefix?: string;
}

/**
 * A saxes parser that follows the DOCTYPE rule: the first problem (a refused DOCTYPE, a syntax
 * error) is kept as a REPODATA_INVALID error naming `name` and the line, for the caller to throw
 * after each write (saxes goes on after reporting an error).
 */
export class SafeXmlParser {
  readonly parser = new SaxesParser({ xmlns: false, position: true });
  failure: YumError | undefined;
  private readonly decoder = new StringDecoder("utf8");

  constructor(
    readonly name: string,
    options: SafeXmlParserOptions = {},
  ) {
    this.parser.on("doctype", (doctype) => {
      const problem = doctypeProblem(doctype);
      if (problem) this.fail(problem);
    });
    // saxes starts its messages with "line:column: "; ours name the line already.
    this.parser.on("error", (err) =>
      this.fail(err.message.replace(/^\d+:(\d+): /, "column $1: "), options.syntaxPrefix),
    );
  }

  /** `<name>: [prefix]line <n>: <message>` (or `line <n>, column <c>: ...` for syntax errors). */
  invalid(message: string, prefix = ""): YumError {
    const at = message.startsWith("column ") ? `line ${this.parser.line}, ` : `line ${this.parser.line}: `;
    return new YumError("REPODATA_INVALID", `${this.name}: ${prefix}${at}${message}`, {
      file: this.name,
    });
  }

  /** Keeps the first failure only: later ones are usually its consequences. */
  fail(message: string, prefix = ""): void {
    this.failure ??= this.invalid(message, prefix);
  }

  /** Feeds a chunk (bytes are decoded as UTF-8 across chunk boundaries); throws the first failure. */
  write(chunk: Uint8Array | string): void {
    this.parser.write(typeof chunk === "string" ? chunk : this.decoder.write(chunk));
    if (this.failure) throw this.failure;
  }

  /** Ends the document; throws the first failure. */
  close(): void {
    this.parser.write(this.decoder.end());
    this.parser.close();
    if (this.failure) throw this.failure;
  }
}

/** What `walkXml` calls for each element: its path from the root (names), attributes, then its text. */
export interface XmlVisitor {
  open?(path: readonly string[], attrs: Record<string, string>): void;
  close?(path: readonly string[], text: string): void;
}

/**
 * Streams a whole XML document through the safe parser, calling `visitor` for each element, with
 * the text of elements bounded by `maxTextLength` characters. Throws REPODATA_INVALID (naming
 * `name`) on a refused DOCTYPE or malformed XML.
 */
export async function walkXml(
  chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  name: string,
  visitor: XmlVisitor = {},
  options: SafeXmlParserOptions & { maxTextLength?: number } = {},
): Promise<void> {
  const safe = new SafeXmlParser(name, options);
  const maxText = options.maxTextLength ?? 1024 * 1024;
  const path: string[] = [];
  let text = "";
  let elements = 0;
  safe.parser.on("opentag", (tag: SaxesTagPlain) => {
    path.push(tag.name);
    elements++;
    text = "";
    try {
      visitor.open?.(path, tag.attributes as Record<string, string>);
    } catch (err) {
      safe.fail((err as Error).message);
    }
  });
  const onText = (chunk: string) => {
    if (!visitor.close || path.length === 0) return;
    text += chunk;
    if (text.length > maxText) {
      safe.fail(`text longer than ${maxText} characters`);
      text = "";
    }
  };
  safe.parser.on("text", onText);
  safe.parser.on("cdata", onText);
  safe.parser.on("closetag", () => {
    try {
      visitor.close?.(path, text);
    } catch (err) {
      safe.fail((err as Error).message);
    }
    text = "";
    path.pop();
  });
  for await (const chunk of chunks) safe.write(chunk);
  safe.close();
  if (elements === 0) throw safe.invalid("no root element");
}

/** Checks that `chunks` form one well-formed XML document that the DOCTYPE rule accepts. */
export function checkXml(
  chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  name: string,
): Promise<void> {
  return walkXml(chunks, name, {}, { syntaxPrefix: "not well-formed XML: " });
}

/** `checkXml` of a document already in memory (saxes is synchronous). */
export function checkXmlText(xml: string, name: string): void {
  const safe = new SafeXmlParser(name, { syntaxPrefix: "not well-formed XML: " });
  safe.write(xml);
  safe.close();
}
