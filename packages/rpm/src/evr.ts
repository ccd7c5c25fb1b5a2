/** Epoch, version and release of a dependency's version string; `undefined` where createrepo_c has NULL. */
export interface Evr {
  epoch?: string;
  version?: string;
  release?: string;
}

function isCSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/** Where C's `strtol(s, &end, 10)` leaves `end`. */
function strtolEnd(s: string): number {
  let i = 0;
  while (i < s.length && isCSpace(s.charCodeAt(i))) i++;
  if (i < s.length && (s[i] === "+" || s[i] === "-")) i++;
  const digitsStart = i;
  while (i < s.length && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39) i++;
  return i === digitsStart ? 0 : i;
}

/**
 * Splits `[epoch:]version[-release]` exactly like createrepo_c's `cr_str_to_evr`: the epoch is
 * "0" when absent, the release is the text after the first "-" following the epoch.
 * Returns `null` for a non-numeric epoch (createrepo_c skips such dependencies).
 */
export function splitEvr(s: string | undefined): Evr | null {
  if (!s) return {};
  const evr: Evr = {};
  let rest = s;
  const colon = s.indexOf(":");
  if (colon >= 0) {
    if (strtolEnd(s) !== colon) return null;
    if (colon > 0) evr.epoch = s.slice(0, colon);
    rest = s.slice(colon + 1);
  }
  evr.epoch ??= "0";
  const dash = rest.indexOf("-");
  if (dash >= 0) {
    evr.version = rest.slice(0, dash);
    const release = rest.slice(dash + 1);
    if (release) evr.release = release;
  } else {
    evr.version = rest;
  }
  return evr;
}
