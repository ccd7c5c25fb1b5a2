/** Dependency sense bits (rpm's `rpmds.h`). */
export const RpmSense = {
  LESS: 1 << 1,
  GREATER: 1 << 2,
  EQUAL: 1 << 3,
  PREREQ: 1 << 6,
  SCRIPT_PRE: 1 << 9,
  SCRIPT_POST: 1 << 10,
  MISSINGOK: 1 << 19,
  RPMLIB: 1 << 24,
  /** Legacy weak dependencies: marks a strong (recommends/supplements) hint. */
  STRONG: 1 << 27,
} as const;

export type DependencyFlag = "EQ" | "LT" | "LE" | "GT" | "GE";

/** The comparison as createrepo_c writes it (`cr_flag_to_str`); undefined for none or nonsense. */
export function flagToString(flags: number): DependencyFlag | undefined {
  switch (flags & 0xf) {
    case 2:
      return "LT";
    case 4:
      return "GT";
    case 8:
      return "EQ";
    case 10:
      return "LE";
    case 12:
      return "GE";
    default:
      return undefined;
  }
}

/** createrepo_c's `pre="1"`: a legacy prereq or a %pre/%post scriptlet dependency. */
export function isPreDependency(flags: number): boolean {
  return (flags & (RpmSense.PREREQ | RpmSense.SCRIPT_PRE | RpmSense.SCRIPT_POST)) !== 0;
}
