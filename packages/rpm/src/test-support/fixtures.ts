import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** Real signed Rocky Linux 8.3 RPMs with their upstream repodata (read-only). */
export const ROCKY_DIR = fileURLToPath(
  new URL("../../../../test/fixtures/rocky-8.3-ha-debug", import.meta.url),
);
export const ROCKY_PACKAGES = join(ROCKY_DIR, "Packages");
export const ROCKY_KEY = join(ROCKY_DIR, "RPM-GPG-KEY-rockyofficial");

export function rockyRpms(): string[] {
  return readdirSync(ROCKY_PACKAGES)
    .filter((f) => f.endsWith(".rpm"))
    .sort();
}

/** A fresh temporary directory and its cleanup. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `beskar-yum-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Deterministic PRNG (mulberry32) for reproducible fuzzing. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
