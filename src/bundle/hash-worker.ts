/**
 * A hashing thread for folder verification: it reads each file it is sent with plain blocking reads (sequential, so
 * the kernel reads ahead) and answers with its sha256 and size. Two of them keep both cores busy where the main
 * thread alone hashes on one. Inlined into the single-file CLI by scripts/bundle-cli.mjs.
 */
import { parentPort } from 'node:worker_threads';
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { createHash } from 'node:crypto';

export interface HashRequest {
  id: number;
  path: string;
}

export type HashAnswer = { id: number; sha256: string; size: number } | { id: number; error: { code: string; message: string } };

/** 1 MiB reads, as the main thread's reader uses: hashing runs near its in-memory speed. */
const buf = Buffer.allocUnsafe(1 << 20);

function hash(path: string): { sha256: string; size: number } {
  // A file swapped for a link since the folder was walked is not followed.
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const h = createHash('sha256');
    let size = 0;
    for (let n = readSync(fd, buf, 0, buf.length, null); n > 0; n = readSync(fd, buf, 0, buf.length, null)) {
      h.update(buf.subarray(0, n));
      size += n;
    }
    return { sha256: h.digest('hex'), size };
  } finally {
    closeSync(fd);
  }
}

const port = parentPort;
port?.on('message', (m: HashRequest) => {
  let answer: HashAnswer;
  try {
    answer = { id: m.id, ...hash(m.path) };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    answer = { id: m.id, error: { code: e.code ?? 'EUNKNOWN', message: e.message } };
  }
  port.postMessage(answer);
});
