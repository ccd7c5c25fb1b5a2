import type { RpmHeader } from "./header-reader.js";
import { Tag } from "./tags.js";

/** A changelog entry, strings still binary. */
export interface RawChangelog {
  author: string;
  date: number;
  text: string;
}

/** createrepo_c's default `--changelog-limit`. */
export const DEFAULT_CHANGELOG_LIMIT = 10;

/**
 * Changelog entries as createrepo_c writes them to other.xml: the newest `limit` entries of the
 * header (newest first there), oldest first in the result, trailing spaces of the author
 * removed, and entries sharing a timestamp made distinct by bumping the newer ones by one
 * second each (`cr_package_from_header`). `limit` -1 keeps everything.
 */
export function collectChangelogs(
  header: RpmHeader,
  limit: number = DEFAULT_CHANGELOG_LIMIT,
): RawChangelog[] {
  const times = header.numbers(Tag.CHANGELOGTIME);
  const names = header.strings(Tag.CHANGELOGNAME);
  const texts = header.strings(Tag.CHANGELOGTEXT);
  if (!times || !names || !texts) return [];
  let n = Math.min(times.length, names.length, texts.length);
  if (limit >= 0) n = Math.min(n, limit);
  // Built newest first (as createrepo_c's prepend list), reversed at the end.
  const list: RawChangelog[] = [];
  let lastTime = 0;
  for (let i = 0; i < n; i++) {
    const time = times[i]!;
    list.push({ author: trimTrailingSpaces(names[i]!), date: time, text: texts[i]! });
    if (lastTime === time) {
      let expected = time;
      for (let k = list.length - 2; k >= 0 && list[k]!.date === expected; k--) {
        list[k]!.date++;
        expected++;
      }
    } else {
      lastTime = time;
    }
  }
  return list.reverse();
}

/** createrepo_c strips spaces from the end of the author, but never its first character. */
function trimTrailingSpaces(author: string): string {
  let end = author.length;
  while (end > 1 && author[end - 1] === " ") end--;
  return author.slice(0, end);
}
