import { isYumError, YumError } from "@beskar-yum/errors";
import { type Metalink, parseMetalink } from "./metalink.js";
import { redact } from "./mirror-url.js";
import { parseMirrorlist } from "./mirrorlist.js";

/** Where a repository's mirrors are listed: its `metalink` or `mirrorlist` property. */
export interface MirrorListSource {
  kind: "metalink" | "mirrorlist";
  url: string;
}

export interface MirrorList {
  /** Mirror base URLs, best first. */
  mirrors: string[];
  /** The metalink itself, whose repomd.xml size and hashes expose stale mirrors. */
  metalink?: Metalink;
}

/** Metalinks of big distributions list a few hundred mirrors: a few hundred KiB. */
const maxDocumentBytes = 4 * 1024 ** 2;

/**
 * Fetches and parses the metalink or mirrorlist (`document` is the upstream client's: redirects,
 * proxy, retries). Any failure is METALINK_INVALID naming the document, credentials hidden.
 */
export async function readMirrorList(
  source: MirrorListSource,
  document: (url: string, options: { maxBytes: number }) => Promise<{ text: string; finalUrl: string }>,
): Promise<MirrorList> {
  const shown = `${source.kind} ${redact(source.url)}`;
  try {
    const { text } = await document(source.url, { maxBytes: maxDocumentBytes });
    if (source.kind === "mirrorlist") return { mirrors: parseMirrorlist(text, shown) };
    const metalink = await parseMetalink(text, shown);
    return { mirrors: metalink.mirrors, metalink };
  } catch (err) {
    if (isYumError(err) && err.code === "METALINK_INVALID") throw err;
    throw new YumError(
      "METALINK_INVALID",
      `${shown}: ${(err as Error).message.replace(`${shown}: `, "")}`,
      {},
      { cause: err },
    );
  }
}

/** The repository's `metalink` or `mirrorlist` property (validation lets at most one be set), if any. */
export function mirrorListSource(properties: Record<string, unknown>): MirrorListSource | undefined {
  const { metalink, mirrorlist } = properties;
  if (typeof metalink === "string" && metalink !== "") return { kind: "metalink", url: metalink };
  if (typeof mirrorlist === "string" && mirrorlist !== "") return { kind: "mirrorlist", url: mirrorlist };
  return undefined;
}
