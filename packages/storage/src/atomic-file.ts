import { randomBytes } from "node:crypto";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";

/** A name for a temporary file beside `target`, so that the final rename stays on one filesystem. */
export function tempPathFor(target: string): string {
  return join(dirname(target), `.tmp-${process.pid}-${randomBytes(6).toString("hex")}`);
}

/** fsync a directory so that a rename inside it survives a power loss. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Write, fsync, rename: readers see either the old file or the whole new one, never a torn write. */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const temp = tempPathFor(target);
  try {
    const handle = await open(temp, "w", 0o644);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  await fsyncDir(dirname(target));
}
