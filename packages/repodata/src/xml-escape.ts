import { YumError } from "@beskar-yum/errors";

/**
 * XML escaping byte-compatible with what createrepo_c gets from libxml2 2.9 (`xmlNodeDump`
 * with no document): text escapes & < > and CR; attributes also escape " TAB LF, and write every
 * non-ASCII character as a hexadecimal character reference (`&#x105;`).
 *
 * Characters that XML 1.0 forbids never reach the output: C0 controls other than TAB/LF/CR
 * are refused (createrepo_c refuses such packages), U+FFFE/U+FFFF and lone surrogates become
 * U+FFFD in text; in attributes U+FFFE/U+FFFF become references to their UTF-8 bytes, as
 * libxml2 writes them.
 */

/** Whether element content needs any work (markup, CR, controls, surrogates, non-characters). */
function textNeedsWork(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20) {
      if (c !== 0x09 && c !== 0x0a) return true;
    } else if (c === 0x26 || c === 0x3c || c === 0x3e || (c >= 0xd800 && c <= 0xdfff) || c >= 0xfffe) {
      return true;
    }
  }
  return false;
}

/** Whether an attribute value needs any work (markup, quotes, whitespace controls, non-ASCII). */
function attrNeedsWork(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c >= 0x80 || c === 0x22 || c === 0x26 || c === 0x3c || c === 0x3e) return true;
  }
  return false;
}

function forbidden(s: string, i: number, where: string): YumError {
  const code = s.charCodeAt(i).toString(16).padStart(2, "0");
  return new YumError(
    "REPODATA_INVALID",
    `${where}: control character 0x${code} at position ${i} cannot be written to XML`,
    { position: i },
  );
}

/** Escapes element content. */
export function escapeText(s: string, where = "text"): string {
  if (!textNeedsWork(s)) return s;
  let out = "";
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let rep: string | undefined;
    if (c === 0x26) rep = "&amp;";
    else if (c === 0x3c) rep = "&lt;";
    else if (c === 0x3e) rep = "&gt;";
    else if (c === 0x0d) rep = "&#13;";
    else if (c < 0x20 && c !== 0x09 && c !== 0x0a) throw forbidden(s, i, where);
    else if (c >= 0xd800 && c <= 0xdfff) {
      const pair =
        c <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff;
      if (pair) {
        i++;
        continue;
      }
      rep = "\ufffd";
    } else if (c === 0xfffe || c === 0xffff) rep = "\ufffd";
    if (rep !== undefined) {
      out += s.slice(from, i) + rep;
      from = i + 1;
    }
  }
  return out + s.slice(from);
}

/** Escapes an attribute value the way libxml2 serialises attributes of a document-less node. */
export function escapeAttr(s: string, where = "attribute"): string {
  if (!attrNeedsWork(s)) return s;
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      switch (c) {
        case 0x0a:
          out += "&#10;";
          break;
        case 0x0d:
          out += "&#13;";
          break;
        case 0x09:
          out += "&#9;";
          break;
        case 0x22:
          out += "&quot;";
          break;
        case 0x3c:
          out += "&lt;";
          break;
        case 0x3e:
          out += "&gt;";
          break;
        case 0x26:
          out += "&amp;";
          break;
        default:
          if (c < 0x20) throw forbidden(s, i, where);
          out += s[i];
      }
      continue;
    }
    let cp = c;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const low = s.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        cp = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
        i++;
      }
    }
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
    if (cp === 0xfffe || cp === 0xffff) {
      // libxml2 refuses the character and references its bytes one by one.
      for (const b of Buffer.from(String.fromCharCode(cp), "utf8"))
        out += `&#x${b.toString(16).toUpperCase()};`;
      continue;
    }
    out += `&#x${cp.toString(16).toUpperCase()};`;
  }
  return out;
}

/** Lone surrogates, U+FFFE and U+FFFF become U+FFFD; valid surrogate pairs stay. */
function replaceNonXmlChars(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const low = s.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        out += s[i]! + s[i + 1]!;
        i++;
        continue;
      }
    }
    out += (c >= 0xd800 && c <= 0xdfff) || c === 0xfffe || c === 0xffff ? "\ufffd" : s[i];
  }
  return out;
}

/** Attribute escaping for a serialised document with an encoding (repomd.xml): non-ASCII stays as is. */
export function escapeDocumentAttr(value: string, where = "attribute"): string {
  const s = replaceNonXmlChars(value);
  let out = "";
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) continue;
    let rep: string | undefined;
    if (c === 0x0a) rep = "&#10;";
    else if (c === 0x0d) rep = "&#13;";
    else if (c === 0x09) rep = "&#9;";
    else if (c === 0x22) rep = "&quot;";
    else if (c === 0x3c) rep = "&lt;";
    else if (c === 0x3e) rep = "&gt;";
    else if (c === 0x26) rep = "&amp;";
    else if (c < 0x20) throw forbidden(s, i, where);
    if (rep !== undefined) {
      out += s.slice(from, i) + rep;
      from = i + 1;
    }
  }
  return out + s.slice(from);
}
