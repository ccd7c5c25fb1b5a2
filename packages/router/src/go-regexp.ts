import { YumError } from "@beskar-yum/errors";

/**
 * Compiles a route pattern, written for Go's regexp (RE2) as Beskar evaluates it, into a JS
 * RegExp that matches the same strings with the same submatches.
 *
 * Both engines pick the leftmost match and, within it, the submatches a backtracking engine
 * would choose, so the common syntax means the same thing once three differences are bridged:
 * `.` excludes only `\n` in Go (JS also excludes `\r`, U+2028, U+2029), `\s` is ASCII-only in
 * Go, and Go matches runes (the `u` flag makes JS match code points). Syntax with no safe
 * translation (flags, named or POSIX classes, `\A`, `\z`, `\Q...\E`, `\pN`, back-references)
 * is refused rather than guessed.
 */
export function compileGoRegExp(pattern: string): RegExp {
  let out = "";
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "\\") {
      const next = pattern[i + 1];
      if (next === undefined) refuse(pattern, i, "a trailing backslash");
      i++;
      if (next === "s") out += inClass ? "\\t\\n\\f\\r " : "[\\t\\n\\f\\r ]";
      else if (next === "S" && !inClass) out += "[^\\t\\n\\f\\r ]";
      else if ("SAzQECpP".includes(next!) || /[0-9]/.test(next!) || (inClass && "bB".includes(next!)))
        refuse(pattern, i - 1, `\\${next}`);
      else out += `\\${next}`;
      continue;
    }
    if (inClass) {
      if (c === "[" && pattern[i + 1] === ":") refuse(pattern, i, "a POSIX class");
      if (c === "]") inClass = false;
      out += c;
      continue;
    }
    if (c === "[") {
      const start = pattern[i + 1] === "^" ? i + 2 : i + 1;
      // Go reads a `]` right after `[` or `[^` as a literal; JS reads it as the end of the class.
      if (pattern[start] === "]") refuse(pattern, i, "a class starting with ]");
      inClass = true;
      out += c;
      continue;
    }
    if (c === "(" && pattern[i + 1] === "?" && pattern[i + 2] !== ":")
      refuse(pattern, i, "(? other than (?:");
    out += c === "." ? "[^\\n]" : c;
  }
  if (inClass) refuse(pattern, pattern.length, "an unterminated class");
  try {
    return new RegExp(out, "u");
  } catch (err) {
    throw new YumError("CONFIG_INVALID", `route pattern ${JSON.stringify(pattern)} is not a valid regexp`, {
      pattern,
      cause: String(err),
    });
  }
}

/** The number of capture groups of a compiled pattern. */
export function captureGroupCount(regexp: RegExp): number {
  return new RegExp(`${regexp.source}|`, regexp.flags).exec("")!.length - 1;
}

function refuse(pattern: string, offset: number, what: string): never {
  throw new YumError(
    "CONFIG_INVALID",
    `route pattern ${JSON.stringify(pattern)} uses ${what} at offset ${offset}: only the syntax Go's regexp and JS share is supported`,
    { pattern, offset },
  );
}
