import { StringDecoder } from "node:string_decoder";
import { YumError } from "@beskar-yum/errors";
import { SaxesParser, type SaxesTagPlain } from "saxes";

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

const maxTextLength = 64 * 1024;

function invalid(message: string): YumError {
  return new YumError("REPODATA_INVALID", `primary.xml: ${message}`);
}

/**
 * Streams `<package>` entries out of a decompressed primary.xml with bounded memory. Only the
 * fields a mirror needs are kept. A DOCTYPE (and so any entity declaration) is refused, and saxes
 * never expands entities it was not told about, so entity bombs cannot work.
 *
 * `onCount` receives the `packages` attribute of `<metadata>` when it is seen.
 */
export async function* readUpstreamPrimary(
  source: AsyncIterable<Buffer | string> | Iterable<Buffer | string>,
  onCount?: (count: number) => void,
): AsyncGenerator<UpstreamPackage> {
  const parser = new SaxesParser({ xmlns: false, position: true });
  const ready: UpstreamPackage[] = [];
  let failure: Error | undefined;
  let current: Partial<UpstreamPackage> | undefined;
  let element = "";
  let text = "";

  parser.on("doctype", () => {
    failure ??= invalid("DOCTYPE declarations are not accepted");
  });
  parser.on("error", (err) => {
    failure ??= invalid(err.message);
  });
  parser.on("opentag", (tag: SaxesTagPlain) => {
    const attrs = tag.attributes as Record<string, string>;
    element = tag.name;
    text = "";
    if (tag.name === "metadata" && attrs.packages !== undefined) onCount?.(Number(attrs.packages));
    else if (tag.name === "package") current = {};
    else if (!current) return;
    else if (tag.name === "version") {
      current.epoch = attrs.epoch ?? "0";
      current.version = attrs.ver ?? "";
      current.release = attrs.rel ?? "";
    } else if (tag.name === "checksum") current.checksum = { type: attrs.type ?? "", value: "" };
    else if (tag.name === "size") current.size = Number(attrs.package);
    else if (tag.name === "location") {
      current.href = attrs.href;
      if (attrs["xml:base"] !== undefined) current.base = attrs["xml:base"];
    }
  });
  parser.on("text", (chunk: string) => {
    if (current && (element === "name" || element === "arch" || element === "checksum")) {
      text += chunk;
      if (text.length > maxTextLength)
        failure ??= invalid(`<${element}> longer than ${maxTextLength} characters`);
    }
  });
  parser.on("closetag", (tag: SaxesTagPlain) => {
    if (!current) return;
    if (tag.name === "name" && element === "name") current.name = text.trim();
    else if (tag.name === "arch" && element === "arch") current.arch = text.trim();
    else if (tag.name === "checksum" && current.checksum) current.checksum.value = text.trim().toLowerCase();
    else if (tag.name === "package") {
      ready.push(validate(current, parser.line));
      current = undefined;
    }
    element = "";
  });

  // A multi-byte character may be split across chunks: decode with state, not chunk by chunk.
  const decoder = new StringDecoder("utf8");
  for await (const chunk of source) {
    parser.write(typeof chunk === "string" ? chunk : decoder.write(chunk));
    if (failure) throw failure;
    yield* ready.splice(0);
  }
  parser.write(decoder.end());
  parser.close();
  if (failure) throw failure;
  yield* ready.splice(0);
}

function validate(p: Partial<UpstreamPackage>, line: number): UpstreamPackage {
  const where = `package ending at line ${line}`;
  if (!p.name) throw invalid(`${where}: missing <name>`);
  if (!p.href) throw invalid(`${where} (${p.name}): missing <location href>`);
  if (!p.checksum?.value || !/^[0-9a-f]{32,128}$/.test(p.checksum.value)) {
    throw invalid(`${where} (${p.name}): missing or malformed <checksum>`);
  }
  if (!["sha1", "sha", "sha256", "sha512", "sha384", "sha224", "md5"].includes(p.checksum.type)) {
    throw invalid(`${where} (${p.name}): unsupported checksum type "${p.checksum.type}"`);
  }
  if (p.size === undefined || !Number.isSafeInteger(p.size) || p.size < 0) {
    throw invalid(`${where} (${p.name}): missing or malformed <size package>`);
  }
  return {
    name: p.name,
    arch: p.arch ?? "",
    epoch: p.epoch ?? "0",
    version: p.version ?? "",
    release: p.release ?? "",
    checksum: p.checksum,
    size: p.size,
    href: p.href,
    ...(p.base !== undefined ? { base: p.base } : {}),
  };
}
