import { YumError } from "@beskar-yum/errors";

const maxMirrors = 1000;

/**
 * Parses a mirrorlist as dnf reads one: a base URL per line, `#` comments and blank lines ignored,
 * order kept (it is the list's ranking). Only http(s) URLs are used; a line ending in
 * `/repodata/repomd.xml` names the same base.
 */
export function parseMirrorlist(text: string, name = "mirrorlist"): string[] {
  const mirrors: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    if (!/^https?:\/\/\S+$/i.test(line)) continue;
    mirrors.push(line.replace(/\/repodata\/repomd\.xml$/, "/"));
    if (mirrors.length >= maxMirrors) break;
  }
  if (mirrors.length === 0) throw new YumError("METALINK_INVALID", `${name}: lists no http(s) mirror`);
  return [...new Set(mirrors)];
}
