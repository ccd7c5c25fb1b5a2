/**
 * Turning header strings (binary strings, one code unit per byte) into text the way createrepo_c
 * does before handing them to libxml2 (`cr_xmlNewTextChild` / `cr_xmlNewProp`): bytes that pass
 * libxml2's lenient `xmlCheckUTF8` are UTF-8; anything else is taken as ISO-8859-1 with C0
 * controls (except TAB, LF, CR) and 0x80-0xBF dropped (`cr_latin1_to_utf8`).
 */

const utf8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

/** libxml2's `xmlCheckUTF8`: structure only (overlong forms and surrogates pass). */
export function looksLikeUtf8(binary: string): boolean {
  const n = binary.length;
  let i = 0;
  while (i < n) {
    const c = binary.charCodeAt(i);
    let follow: number;
    if (c < 0x80) follow = 0;
    else if ((c & 0xe0) === 0xc0) follow = 1;
    else if ((c & 0xf0) === 0xe0) follow = 2;
    else if ((c & 0xf8) === 0xf0) follow = 3;
    else return false;
    for (let k = 1; k <= follow; k++) {
      if (i + k >= n || (binary.charCodeAt(i + k) & 0xc0) !== 0x80) return false;
    }
    i += follow + 1;
  }
  return true;
}

function isAscii(binary: string): boolean {
  for (let i = 0; i < binary.length; i++) if (binary.charCodeAt(i) >= 0x80) return false;
  return true;
}

/**
 * Decodes a header string. Byte sequences that `xmlCheckUTF8` accepts but that are not Unicode
 * scalar values (overlong forms, surrogates, > U+10FFFF) become U+FFFD: createrepo_c would
 * copy those bytes into the XML verbatim, which is not well-formed.
 */
export function decodeHeaderText(binary: string): string {
  if (isAscii(binary)) return binary;
  if (looksLikeUtf8(binary)) return utf8.decode(Buffer.from(binary, "latin1"));
  let out = "";
  for (let i = 0; i < binary.length; i++) {
    const c = binary.charCodeAt(i);
    if (c < 0x80) {
      if (c < 0x20 && c !== 9 && c !== 10 && c !== 13) continue;
      out += binary[i];
    } else if (c >= 0xc0) {
      out += binary[i];
    }
  }
  return out;
}

/** Index of the first C0 control other than TAB, LF and CR (what createrepo_c refuses), or -1. */
export function forbiddenControlChar(binary: string): number {
  for (let i = 0; i < binary.length; i++) {
    const c = binary.charCodeAt(i);
    if (c < 0x20 && c !== 9 && c !== 10 && c !== 13) return i;
  }
  return -1;
}
