import { closeSync, createWriteStream, fchmodSync, fstatSync, mkdirSync, openSync, renameSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';

/** What a log may hold in memory while the disk is slow; lines beyond it are dropped, never queued without bound. */
const MAX_PENDING = 1 << 20;
/** After a failed write (a full disk, a removed folder), how long the log stays quiet before it tries again. */
const RETRY_MS = 10_000;

/**
 * An append-only log file of bounded size, private to its owner: one open stream for every line, mode 0600, and
 * when the file would grow past `maxBytes` it becomes `<file>.1` (replacing the older one) and a new file starts, so
 * the pair never holds more than twice that. Best effort: a full disk or a removed folder never stops the mirror;
 * the log stays quiet for a while and then opens its file again (recreating a removed folder, mode 0700).
 */
export class LogFile {
  private stream?: WriteStream;
  private size = 0;
  private failedAt = 0;

  constructor(
    readonly path: string,
    readonly maxBytes: number,
  ) {}

  write(line: string): void {
    const bytes = Buffer.byteLength(line);
    if (this.size + bytes > this.maxBytes && this.size > 0) this.rotate();
    const stream = this.stream ?? this.open();
    if (!stream || stream.writableLength > MAX_PENDING) return;
    stream.write(line);
    this.size += bytes;
  }

  /** Flush what is queued and close the file. */
  close(): Promise<void> {
    const stream = this.stream;
    this.stream = undefined;
    return new Promise((resolve) => (stream && !stream.destroyed ? stream.end(resolve) : resolve()));
  }

  private open(): WriteStream | undefined {
    if (Date.now() - this.failedAt < RETRY_MS) return undefined;
    let fd: number | undefined;
    try {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      fd = openSync(this.path, 'a', 0o600);
      // A file left by an older version, or made under a loose umask, is made private too.
      fchmodSync(fd, 0o600);
      this.size = fstatSync(fd).size;
      const stream = createWriteStream('', { fd });
      stream.on('error', () => {
        if (this.stream === stream) this.stream = undefined;
        this.failedAt = Date.now();
      });
      this.stream = stream;
      return stream;
    } catch {
      if (fd !== undefined) closeSync(fd);
      this.failedAt = Date.now();
      return undefined;
    }
  }

  private rotate(): void {
    const old = this.stream;
    this.stream = undefined;
    this.size = 0;
    // Lines still queued on the old stream land in the renamed file: its descriptor follows the file.
    old?.end();
    try {
      renameSync(this.path, `${this.path}.1`);
    } catch {
      // Nothing to rotate (removed under us): the next open starts a new file.
    }
  }
}
