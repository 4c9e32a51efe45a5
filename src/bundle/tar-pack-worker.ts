/**
 * The packing thread (started by tar-pack-thread.ts). It writes the archive in order with plain blocking calls, like
 * GNU tar, and tells the main thread how far the file has grown, so that one can hash what is on disk behind it.
 * Large bodies are copied by the kernel: a `sh` started once per pack runs `cat` on each, with the archive as its
 * standard output; GNU cat copies a regular file with copy_file_range(2), page cache to page cache, and the shared
 * file offset puts the bytes right after the header this thread wrote. On these machines that copy cost a third of
 * the CPU time of read(2) plus write(2). Without sh, or for small bodies, the bytes go through one reused buffer.
 * The bundled CLI inlines this module as a string (scripts/bundle-cli.mjs, util/worker-module.ts), so it imports
 * nothing but Node and the shared tar blocks.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, fstatSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import { END_OF_ARCHIVE, paddingFor } from './tar-header.js';

export interface PackItem {
  /** The header blocks, already encoded. */
  head: Uint8Array;
  file?: string;
  data?: Uint8Array;
  /** Body bytes: the file's size as the build recorded it. */
  size: number;
  /** Packing ahead: the body is a file the build has not made yet; its path comes from `AheadControl.later`. */
  later?: boolean;
}

/**
 * Packing ahead of the build (tar-pack-ahead.ts), on the build's own thread: every body already there is checked for
 * its size before the first byte is written, and once the first large body is with the kernel, the pack gives the event
 * loop a turn every MiB it copies itself, so the build's requests go on meanwhile.
 */
export interface AheadControl {
  /** True once the build does not want this pack: it stops before the next file. */
  stopped(): boolean;
  /** The files of the `later` items, by index, once the build has them. */
  later(): Promise<Record<number, string>>;
}

export interface PackJob {
  out: string;
  items: PackItem[];
}

/** A failure, as plain data: an Error does not cross threads with its code. `ECHANGED`: a source file changed size. */
export interface PackFailure {
  code: string;
  message: string;
  path?: string;
}

/** `written`: the archive's bytes so far, all of them on disk (in the page cache) and final. */
export type PackMessage = { written: number } | { done: true; bytes: number } | { error: PackFailure };

/** A body this large goes through the kernel: below it, starting `cat` costs more than the copy it saves. */
export const KERNEL_COPY_MIN = 4 << 20;
/** Bytes a pack ahead writes itself between two turns of the event loop. */
const AHEAD_TURN = 1 << 20;
/** Bytes between two `written` messages. */
const PROGRESS_STEP = 8 << 20;
/** The buffer small bodies pass through: small enough that the write finds the bytes the read left in the CPU cache. */
const BUFFER = 1 << 18;

class PackError extends Error {
  constructor(
    readonly code: string,
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

/** What `cat` printed, as an errno code: the message is the C library's (LC_ALL=C). */
const ERRNO_TEXT: Array<[RegExp, string]> = [
  [/No space left on device/, 'ENOSPC'],
  [/Disk quota exceeded/, 'EDQUOT'],
  [/Read-only file system/, 'EROFS'],
  [/Permission denied/, 'EACCES'],
  [/No such file or directory/, 'ENOENT'],
];

/**
 * One `sh` for the whole pack, fed a `cat` per body on its standard input; each answers with cat's exit status on
 * fd 3. Starting `cat` from sh costs a fork of a small shell; starting it from here would fork this whole process
 * (its page tables alone took milliseconds per file).
 */
class KernelCopier {
  private readonly child: ChildProcess;
  private lines: string[] = [];
  private partial = '';
  private waiter: ((line: string | undefined) => void) | undefined;
  private stderr = '';
  private exited = false;

  private constructor(child: ChildProcess) {
    this.child = child;
    const answers = child.stdio[3] as NodeJS.ReadableStream;
    answers.on('data', (d: Buffer) => {
      this.partial += d.toString('latin1');
      const parts = this.partial.split('\n');
      this.partial = parts.pop()!;
      this.lines.push(...parts);
      this.wake();
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => (this.stderr = (this.stderr + d).slice(-4000)));
    child.on('exit', () => {
      this.exited = true;
      this.wake();
    });
    child.on('error', () => {
      this.exited = true;
      this.wake();
    });
  }

  /** A shell writing to `fd`, or undefined where none can be started. */
  static start(fd: number): KernelCopier | undefined {
    try {
      const child = spawn('sh', [], { stdio: ['pipe', fd, 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
      if (child.pid !== undefined) return new KernelCopier(child);
      // Not started (no sh on the PATH): its 'error' event is still to come, and is no failure of the pack.
      child.on('error', () => {});
      return undefined;
    } catch {
      return undefined;
    }
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.(this.lines.shift());
  }

  private next(): Promise<string | undefined> {
    if (this.lines.length || this.exited) return Promise.resolve(this.lines.shift());
    return new Promise((resolve) => (this.waiter = resolve));
  }

  /** Append `file` to the archive at its current offset; throws PackError with what cat said. */
  async copy(file: string, out: string): Promise<void> {
    this.stderr = '';
    this.child.stdin!.write(`cat -- '${file.replace(/'/g, `'\\''`)}'; echo $? >&3\n`);
    const status = await this.next();
    if (status === '0') return;
    const said = this.stderr.trim() || (status === undefined ? 'the copying shell stopped' : `cat exited with ${status}`);
    const code = ERRNO_TEXT.find(([re]) => re.test(said))?.[1] ?? 'EIO';
    throw new PackError(code, /write error/.test(said) || status === undefined ? out : file, said);
  }

  stop(): void {
    this.child.stdin!.end();
    if (!this.exited) this.child.kill();
  }
}

/**
 * Write the archive; resolves to its size. Run on this thread when the caller hashes nothing (a thread would only
 * cost its start: a tenth of a second on a busy machine), on a thread of its own when the caller hashes behind it.
 */
export async function pack(job: PackJob, post: (m: PackMessage) => void, ahead?: AheadControl): Promise<number> {
  if (ahead) checkSizes(job.items);
  const buf = Buffer.allocUnsafe(BUFFER);
  const probe = Buffer.alloc(1);
  let pos = 0;
  let posted = 0;
  const fd = openSync(job.out, 'wx', 0o644);
  post({ written: 0 });
  let copier: KernelCopier | undefined | null = null;
  // Writes without a position: they append at the file offset that `cat`, sharing it, moves too.
  const put = (bytes: Uint8Array, length = bytes.length) => {
    for (let off = 0; off < length; ) off += writeSync(fd, bytes, off, length - off);
    pos += length;
  };
  const changed = (path: string, message: string) => new PackError('ECHANGED', path, message);
  const throughBuffer = (path: string, size: number) => {
    const src = openSync(path, 'r');
    try {
      for (let at = 0; at < size; ) {
        const n = readSync(src, buf, 0, Math.min(buf.length, size - at), at);
        if (n === 0) throw changed(path, `expected ${size} bytes, read ${at}`);
        put(buf, n);
        at += n;
      }
      if (readSync(src, probe, 0, 1, size) > 0) throw changed(path, `expected ${size} bytes, it has more`);
    } finally {
      closeSync(src);
    }
  };
  let files: Record<number, string> | undefined;
  let turn = 0;
  const stopped = () => new PackError('ESTOPPED', job.out, 'no longer wanted');
  try {
    for (const [index, item] of job.items.entries()) {
      if (ahead) {
        // Not before the kernel copies got going: the first large body is usually near the start (bin/node).
        if (copier !== null && pos - turn >= AHEAD_TURN) {
          turn = pos;
          await new Promise((resolve) => setImmediate(resolve));
        }
        if (item.later) {
          files ??= await ahead.later();
          item.file = files[index];
        }
        if (ahead.stopped()) throw stopped();
        if (item.later && !item.file) throw new PackError('ENOENT', job.out, `no file for ${index}`);
      }
      put(item.head);
      if (item.data) put(item.data);
      else if (item.file) {
        if (item.size >= KERNEL_COPY_MIN && copier === null) copier = KernelCopier.start(fd);
        if (item.size >= KERNEL_COPY_MIN && copier) {
          await copier.copy(item.file, job.out);
          const now = fstatSync(fd).size;
          if (now !== pos + item.size) throw changed(item.file, `expected ${item.size} bytes, copied ${now - pos}`);
          pos = now;
        } else throughBuffer(item.file, item.size);
      }
      const pad = paddingFor(item.size);
      if (pad) put(END_OF_ARCHIVE, pad);
      if (pos - posted >= PROGRESS_STEP) post({ written: (posted = pos) });
    }
    put(END_OF_ARCHIVE);
    return pos;
  } finally {
    copier?.stop();
    closeSync(fd);
  }
}

/** Before packing ahead: a body missing from the cache, or of another size, is found before anything is written. */
function checkSizes(items: PackItem[]): void {
  for (const item of items) {
    if (!item.file) continue;
    const size = statSync(item.file, { throwIfNoEntry: false })?.size;
    if (size !== item.size) throw new PackError(size === undefined ? 'ENOENT' : 'ECHANGED', item.file, `expected ${item.size} bytes, found ${size ?? 'none'}`);
  }
}

/** A failure of `pack` as plain data. */
export function failureOf(err: unknown, out: string): PackFailure {
  const e = err as NodeJS.ErrnoException;
  return { code: e.code ?? 'EUNKNOWN', message: e.message, path: e.path ?? out };
}

if (parentPort && (workerData as PackJob | undefined)?.items) {
  const port = parentPort;
  const job = workerData as PackJob;
  pack(job, (m) => port.postMessage(m)).then(
    (bytes) => port.postMessage({ done: true, bytes } satisfies PackMessage),
    (err: unknown) => port.postMessage({ error: failureOf(err, job.out) } satisfies PackMessage),
  );
}
