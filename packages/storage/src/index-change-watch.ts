import { statSync } from "node:fs";
import Database from "better-sqlite3";

/**
 * Tells, cheaply and exactly, whether anything was committed to a repository index since an earlier
 * look: a read-only connection of its own whose `PRAGMA data_version` changes with every commit of
 * any other connection (the worker's publish or sync switch, this process's own index handle, another
 * API process). About 2 µs a call, no file system call: what a cache of served content checks on
 * every hit. The connection never writes (and so never checkpoints).
 */
export class IndexChangeWatch {
  private readonly dataVersion: Database.Statement;
  private readonly deletingFlag: Database.Statement;
  private closed = false;

  private constructor(
    readonly path: string,
    /** The inode of the index file this connection reads: another one at `path` is another repository. */
    readonly inode: number,
    private readonly db: Database.Database,
  ) {
    this.dataVersion = db.prepare("PRAGMA data_version").pluck();
    this.deletingFlag = db.prepare("SELECT deleting FROM repository WHERE id = 1").pluck();
  }

  /** Opens a watch of the index at `path`, or undefined when there is none. */
  static open(path: string): IndexChangeWatch | undefined {
    try {
      const inode = statSync(path).ino;
      const db = new Database(path, { readonly: true, fileMustExist: true });
      return new IndexChangeWatch(path, inode, db);
    } catch {
      return undefined;
    }
  }

  /** A number that changes whenever another connection commits; undefined once unreadable (closed, removed). */
  version(): number | undefined {
    if (this.closed) return undefined;
    try {
      return this.dataVersion.get() as number;
    } catch {
      return undefined;
    }
  }

  /** True while the repository exists and is not being deleted. */
  servable(): boolean {
    if (this.closed) return false;
    try {
      return this.deletingFlag.get() === 0;
    } catch {
      return false;
    }
  }

  /** True when `path` still names the file this watch reads (not deleted, not replaced by a new repository). */
  current(): boolean {
    try {
      return statSync(this.path).ino === this.inode;
    } catch {
      return false;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}
