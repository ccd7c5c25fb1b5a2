function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

const TILDE = 0x7e;
const CARET = 0x5e;

/**
 * rpm's version comparison (`rpmvercmp`): -1, 0 or 1. Segments are runs of digits or ASCII
 * letters; numbers compare numerically and beat letters; "~" sorts before everything, "^"
 * after the end of the other version.
 */
export function rpmVersionCompare(a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  const at = (s: string, k: number) => (k < s.length ? s.charCodeAt(k) : 0);
  while (i < a.length || j < b.length) {
    while (
      i < a.length &&
      !isDigit(at(a, i)) &&
      !isAlpha(at(a, i)) &&
      at(a, i) !== TILDE &&
      at(a, i) !== CARET
    )
      i++;
    while (
      j < b.length &&
      !isDigit(at(b, j)) &&
      !isAlpha(at(b, j)) &&
      at(b, j) !== TILDE &&
      at(b, j) !== CARET
    )
      j++;
    const ca = at(a, i);
    const cb = at(b, j);
    if (ca === TILDE || cb === TILDE) {
      if (ca !== TILDE) return 1;
      if (cb !== TILDE) return -1;
      i++;
      j++;
      continue;
    }
    if (ca === CARET || cb === CARET) {
      if (i >= a.length) return -1;
      if (j >= b.length) return 1;
      if (ca !== CARET) return 1;
      if (cb !== CARET) return -1;
      i++;
      j++;
      continue;
    }
    if (i >= a.length || j >= b.length) break;
    const numeric = isDigit(ca);
    const same = numeric ? isDigit : isAlpha;
    let ei = i;
    let ej = j;
    while (ei < a.length && same(at(a, ei))) ei++;
    while (ej < b.length && same(at(b, ej))) ej++;
    // A numeric segment against a missing one (the other side is alpha here) is newer.
    if (ej === j) return numeric ? 1 : -1;
    let sa = a.slice(i, ei);
    let sb = b.slice(j, ej);
    if (numeric) {
      sa = sa.replace(/^0+/, "");
      sb = sb.replace(/^0+/, "");
      if (sa.length !== sb.length) return sa.length > sb.length ? 1 : -1;
    }
    if (sa !== sb) return sa < sb ? -1 : 1;
    i = ei;
    j = ej;
  }
  if (i >= a.length && j >= b.length) return 0;
  return i >= a.length ? -1 : 1;
}
