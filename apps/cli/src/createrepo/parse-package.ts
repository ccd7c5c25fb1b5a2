import { createHash } from "node:crypto";
import { closeSync, createReadStream, fstatSync, openSync, readSync } from "node:fs";
import { isYumError } from "@beskar-yum/errors";
import {
  type PackageLocation,
  renderFilelistsPackage,
  renderOtherPackage,
  renderPrimaryPackage,
} from "@beskar-yum/repodata";
import { parseRpm, readRpm } from "@beskar-yum/rpm";
import type { ChecksumType } from "./createrepo-options.js";

/** One RPM to read, as sent to a parser thread. */
export interface ParseTask {
  /** Position in the repository's package order. */
  index: number;
  path: string;
  href: string;
  checksum: ChecksumType;
  changelogLimit: number;
}

/** The three `<package>` fragments of one RPM, UTF-8, and its pkgid. */
export interface ParsedPackage {
  index: number;
  pkgid: string;
  primary: Buffer;
  filelists: Buffer;
  other: Buffer;
}

/** Why an RPM could not be indexed: a YumError code (RPM_TRUNCATED, ...) or an I/O code (ENOENT, ...). */
export interface ParseFailure {
  index: number;
  path: string;
  code: string;
  message: string;
}

/** Files up to this size are read whole and hashed from memory; larger ones are streamed. */
const WHOLE_FILE_LIMIT = 64 * 1024 * 1024;

function failure(task: ParseTask, err: unknown): ParseFailure {
  const code = isYumError(err)
    ? err.code
    : ((err as NodeJS.ErrnoException).code ?? (err as Error).name ?? "ERROR");
  const message = (err as Error).message ?? String(err);
  return { index: task.index, path: task.path, code, message };
}

/**
 * Reads one RPM: size and mtime from the open file, pkgid = checksum of the whole file, the
 * headers parsed (and their digests verified) by @beskar-yum/rpm, the fragments rendered as
 * createrepo_c writes them. Never throws: failures come back as a ParseFailure.
 */
export async function parsePackage(task: ParseTask): Promise<ParsedPackage | ParseFailure> {
  try {
    const fd = openSync(task.path, "r");
    let loc: PackageLocation;
    let pkg: Awaited<ReturnType<typeof readRpm>>["pkg"];
    try {
      const st = fstatSync(fd);
      const base = {
        href: task.href,
        checksumType: task.checksum,
        fileSize: st.size,
        fileTime: Math.floor(st.mtimeMs / 1000),
      };
      const opts = { fileName: task.path, changelogLimit: task.changelogLimit };
      if (st.size <= WHOLE_FILE_LIMIT) {
        const bytes = Buffer.allocUnsafe(st.size);
        let done = 0;
        while (done < st.size) {
          const n = readSync(fd, bytes, done, st.size - done, done);
          if (n === 0) break;
          done += n;
        }
        const whole = bytes.subarray(0, done);
        pkg = parseRpm(whole, opts).pkg;
        loc = { ...base, fileSize: done, pkgid: createHash(task.checksum).update(whole).digest("hex") };
      } else {
        pkg = (await readRpm(task.path, opts)).pkg;
        loc = { ...base, pkgid: await hashFile(task.path, task.checksum) };
      }
    } finally {
      closeSync(fd);
    }
    return {
      index: task.index,
      pkgid: loc.pkgid,
      primary: Buffer.from(renderPrimaryPackage(pkg, loc), "utf8"),
      filelists: Buffer.from(renderFilelistsPackage(pkg, loc), "utf8"),
      other: Buffer.from(renderOtherPackage(pkg, loc), "utf8"),
    };
  } catch (err) {
    return failure(task, err);
  }
}

async function hashFile(path: string, type: ChecksumType): Promise<string> {
  const hash = createHash(type);
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }))
    hash.update(chunk as Buffer);
  return hash.digest("hex");
}

export function isFailure(r: ParsedPackage | ParseFailure): r is ParseFailure {
  return "code" in r;
}
