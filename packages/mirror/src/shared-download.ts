import { closeSync, openSync, read } from "node:fs";
import { Readable } from "node:stream";

/**
 * One upstream download into the blob store that any number of readers follow while it streams
 * in: each reader reads the temporary file at its own pace, up to what has been written so far.
 * The download goes at upstream's pace whatever the readers do, so a slow or departed reader
 * costs no memory and never holds the others back; a failure (a reset, a checksum mismatch) ends
 * every reader with that error, so their clients see a cut response rather than wrong bytes.
 */
export class SharedDownload {
  private fd: number | undefined;
  private written = 0;
  private finished = false;
  private failure: Error | undefined;
  private readers = 0;
  private readonly waiting = new Set<() => void>();

  /** Settles when the blob is stored (committed) or the download failed. */
  readonly done: Promise<void>;

  /**
   * @param ingest writes the body into `blobs` with the given progress hooks, verifies and commits
   * it; its promise settles when the blob is stored.
   */
  constructor(
    ingest: (progress: { created(tempPath: string): void; written(bytes: number): void }) => Promise<void>,
  ) {
    this.done = ingest({
      // Opened synchronously: the file must not be renamed or removed before we hold it.
      created: (tempPath) => {
        this.fd = openSync(tempPath, "r");
      },
      written: (bytes) => {
        this.written = bytes;
        this.wake();
      },
    }).then(
      () => {
        this.finished = true;
        this.wake();
        this.release();
      },
      (err: Error) => {
        this.failure = err;
        this.wake();
        this.release();
        throw err;
      },
    );
    // Readers see the failure; nobody else has to handle it.
    this.done.catch(() => undefined);
  }

  /** A stream of the blob's bytes from the start, following the download as it goes. */
  reader(): Readable {
    this.readers++;
    let position = 0;
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      this.readers--;
      this.release();
    };
    const download = this;
    return new Readable({
      highWaterMark: 256 * 1024,
      read(size) {
        const pull = () => {
          if (download.failure) return this.destroy(download.failure);
          const available = download.written - position;
          if (available <= 0) {
            if (download.finished) return void this.push(null);
            download.waiting.add(pull);
            return;
          }
          const buffer = Buffer.allocUnsafe(Math.min(size, available));
          read(download.fd!, buffer, 0, buffer.length, position, (err, bytesRead) => {
            if (err) return this.destroy(err);
            position += bytesRead;
            this.push(buffer.subarray(0, bytesRead));
          });
        };
        pull();
      },
      destroy(err, callback) {
        close();
        callback(err);
      },
      // A reader that ended lets go of the file at once, not when its consumer closes it.
    }).once("end", close);
  }

  private wake(): void {
    const waiting = [...this.waiting];
    this.waiting.clear();
    for (const pull of waiting) pull();
  }

  /** Closes the file once the download has settled and no reader is left. */
  private release(): void {
    if (this.readers > 0 || (!this.finished && !this.failure) || this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}
