import { createWriteStream, statSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../../rpm/src/test-support/fixtures.js";
import { readFilelists } from "./metadata-readers.js";

const PACKAGES = 46_000;
const FILES_PER_PACKAGE = 120;
const TARGET_BYTES = 500 * 1024 * 1024;

/** One synthetic `<package>` of filelists.xml, about 11.5 KB. */
function packageXml(i: number): string {
  const pkgid = i.toString(16).padStart(64, "0");
  let s = `<package pkgid="${pkgid}" name="synthetic-package-${i}" arch="x86_64">\n  <version epoch="0" ver="1.${i}" rel="1.el9"/>\n`;
  s += `  <file type="dir">/usr/share/synthetic-package-${i}</file>\n`;
  for (let f = 0; f < FILES_PER_PACKAGE; f++) {
    s += `  <file>/usr/share/synthetic-package-${i}/some/deeper/directory/level/file-number-${f}.data</file>\n`;
  }
  s += `  <file type="ghost">/var/log/synthetic-package-${i}.log</file>\n</package>\n`;
  return s;
}

function* document(): Generator<Buffer> {
  yield Buffer.from(
    `<?xml version="1.0" encoding="UTF-8"?>\n<filelists xmlns="http://linux.duke.edu/metadata/filelists" packages="${PACKAGES}">\n`,
  );
  let batch = "";
  for (let i = 0; i < PACKAGES; i++) {
    batch += packageXml(i);
    if (batch.length > 1 << 20) {
      yield Buffer.from(batch);
      batch = "";
    }
  }
  yield Buffer.from(`${batch}</filelists>\n`);
}

describe("readFilelists on a 500 MB filelists.xml", () => {
  let path: string;
  let cleanup: () => void;
  let openSize = 0;

  beforeAll(async () => {
    const tmp = tempDir("filelists-500mb");
    cleanup = tmp.cleanup;
    path = join(tmp.dir, "filelists.xml.gz");
    const source = Readable.from(
      (function* () {
        for (const chunk of document()) {
          openSize += chunk.length;
          yield chunk;
        }
      })(),
    );
    await pipeline(source, createGzip({ level: 1 }), createWriteStream(path));
  }, 60_000);
  afterAll(() => cleanup());

  it("streams every package in bounded memory", async () => {
    expect(openSize).toBeGreaterThanOrEqual(TARGET_BYTES);
    const before = process.memoryUsage().rss;
    let peak = before;
    let count = 0;
    let files = 0;
    const started = performance.now();
    for await (const p of readFilelists(path)) {
      if (p.name !== `synthetic-package-${count}`) throw new Error(`package ${count} is ${p.name}`);
      count++;
      files += p.files.length;
      if ((count & 255) === 0) peak = Math.max(peak, process.memoryUsage().rss);
    }
    const seconds = (performance.now() - started) / 1000;
    peak = Math.max(peak, process.memoryUsage().rss);
    const growthMb = (peak - before) / 2 ** 20;
    console.log(
      `filelists.xml ${(openSize / 2 ** 20).toFixed(0)} MB (${(statSync(path).size / 2 ** 20).toFixed(1)} MB gz): ` +
        `${count} packages, ${files} files in ${seconds.toFixed(1)} s ` +
        `(${(openSize / 2 ** 20 / seconds).toFixed(0)} MB/s), RSS growth ${growthMb.toFixed(1)} MB`,
    );
    expect(count).toBe(PACKAGES);
    expect(files).toBe(PACKAGES * (FILES_PER_PACKAGE + 2));
    expect(growthMb).toBeLessThan(100);
  }, 120_000);
});
