const predefined: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/**
 * Resolves the five predefined entities and numeric character references, nothing else: the
 * parser runs with entity processing off so a document can never define or expand its own.
 * Returns undefined for an unknown entity or a reference to a character XML forbids.
 */
export function unescapeXml(s: string): string | undefined {
  if (!s.includes("&")) return s;
  let bad = false;
  const out = s.replace(
    /&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z][A-Za-z0-9]*);|&/g,
    (all, ref: string | undefined) => {
      if (ref === undefined) {
        bad = true;
        return all;
      }
      if (ref.startsWith("#")) {
        const cp = ref[1] === "x" ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
        const ok =
          cp === 0x9 ||
          cp === 0xa ||
          cp === 0xd ||
          (cp >= 0x20 && cp <= 0xd7ff) ||
          (cp >= 0xe000 && cp <= 0xfffd) ||
          (cp >= 0x10000 && cp <= 0x10ffff);
        if (!ok) {
          bad = true;
          return all;
        }
        return String.fromCodePoint(cp);
      }
      const value = predefined[ref];
      if (value === undefined) bad = true;
      return value ?? all;
    },
  );
  return bad ? undefined : out;
}
