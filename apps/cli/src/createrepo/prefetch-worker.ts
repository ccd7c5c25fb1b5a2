import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { type OldMetadataFile, type OldMetadataFiles, readOldMetadataFiles } from "./old-metadata-files.js";
import { type PackageFile, scanPackages } from "./scan-packages.js";

/**
 * The prefetch thread: reads and decompresses the previous repodata (with `--update`), then
 * scans the directory (one stat per RPM), while the main thread loads the modules that parse
 * and write metadata. It loads nothing but node:fs and node:zlib (and xz/zstd bindings when
 * the old files use them), and everything it hands over crosses without a copy.
 */
export interface Prefetch {
  files: Promise<PackageFile[]>;
  /** Present with `update`; rejects (ENOENT, ...) when there is no readable repomd.xml. */
  old?: Promise<OldMetadataFiles>;
}

interface PackedScan {
  hrefs: string;
  sizes: Float64Array;
  mtimes: Float64Array;
}

type Message =
  | { type: "old"; old: OldMetadataFiles }
  | { type: "scan"; scan: PackedScan }
  | { type: "error"; what: "old" | "scan"; message: string; code?: string };

function pack(files: PackageFile[]): PackedScan {
  const sizes = new Float64Array(files.length);
  const mtimes = new Float64Array(files.length);
  files.forEach((f, i) => {
    sizes[i] = f.size;
    mtimes[i] = f.mtime;
  });
  return { hrefs: files.map((f) => f.href).join("\0"), sizes, mtimes };
}

function unpack(packed: PackedScan): PackageFile[] {
  if (packed.sizes.length === 0) return [];
  return packed.hrefs
    .split("\0")
    .map((href, i) => ({ href, size: packed.sizes[i]!, mtime: packed.mtimes[i]! }));
}

/**
 * A buffer whose ArrayBuffer can be transferred: a large one owns its memory already (it may
 * be a view into a bigger one, which then travels whole, uncopied); a small one may sit in
 * Buffer's shared pool and is copied out of it.
 */
function transferable(b: Buffer): Buffer {
  if (b.length >= Buffer.poolSize || (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength)) return b;
  const copy = new Uint8Array(new ArrayBuffer(b.length));
  copy.set(b);
  return Buffer.from(copy.buffer);
}

/** Starts the prefetch thread for `dir`. */
export function startPrefetch(dir: string, update: boolean): Prefetch {
  const worker = new Worker(new URL(import.meta.url), { workerData: { dir, update } });
  let settleOld: { resolve: (o: OldMetadataFiles) => void; reject: (e: Error) => void } | undefined;
  let settleScan: { resolve: (f: PackageFile[]) => void; reject: (e: Error) => void } | undefined;
  const files = new Promise<PackageFile[]>((resolve, reject) => {
    settleScan = { resolve, reject };
  });
  const prefetch: Prefetch = { files };
  if (update) {
    prefetch.old = new Promise<OldMetadataFiles>((resolve, reject) => {
      settleOld = { resolve, reject };
    });
    prefetch.old.catch(() => {});
  }
  files.catch(() => {});
  worker.on("message", (msg: Message) => {
    if (msg.type === "old") {
      // Buffers arrive as plain Uint8Arrays.
      const asBuffer = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
      for (const [location, f] of msg.old.files) {
        msg.old.files.set(location, { bytes: asBuffer(f.bytes), content: asBuffer(f.content) });
      }
      settleOld?.resolve(msg.old);
    } else if (msg.type === "scan") settleScan?.resolve(unpack(msg.scan));
    else {
      const err = Object.assign(new Error(msg.message), { code: msg.code });
      (msg.what === "old" ? settleOld : settleScan)?.reject(err);
    }
  });
  const fail = (err: Error) => {
    settleOld?.reject(err);
    settleScan?.reject(err);
  };
  worker.on("error", fail);
  worker.on("exit", (code) => fail(new Error(`prefetch thread exited with code ${code}`)));
  return prefetch;
}

async function main(dir: string, update: boolean): Promise<void> {
  const port = parentPort!;
  const error = (what: "old" | "scan", err: unknown) => {
    const e = err as NodeJS.ErrnoException;
    port.postMessage({ type: "error", what, message: e.message, code: e.code } satisfies Message);
  };
  if (update) {
    try {
      const old = await readOldMetadataFiles(dir);
      const transfer: ArrayBuffer[] = [];
      for (const [location, f] of old.files) {
        const file: OldMetadataFile = { bytes: transferable(f.bytes), content: transferable(f.content) };
        old.files.set(location, file);
        for (const b of [file.bytes, file.content]) {
          const ab = b.buffer as ArrayBuffer;
          if (!transfer.includes(ab)) transfer.push(ab);
        }
      }
      port.postMessage({ type: "old", old } satisfies Message, transfer);
    } catch (err) {
      error("old", err);
    }
  }
  try {
    const scan = pack(scanPackages(dir));
    port.postMessage({ type: "scan", scan } satisfies Message, [
      scan.sizes.buffer as ArrayBuffer,
      scan.mtimes.buffer as ArrayBuffer,
    ]);
  } catch (err) {
    error("scan", err);
  }
}

if (!isMainThread && parentPort && (workerData as { dir?: string } | null)?.dir !== undefined) {
  const { dir, update } = workerData as { dir: string; update: boolean };
  void main(dir, update);
}
