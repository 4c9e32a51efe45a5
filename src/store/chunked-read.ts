import { open, type FileHandle } from 'node:fs/promises';

/** 1 MiB reads: hashing a file streams at ~1 GB/s with it against ~0.6 GB/s with Node's 64 KiB default. */
export const READ_CHUNK = 1 << 20;

/**
 * Read a file (or the range [start, end)) through a ring of buffers allocated once (two by default, or as many as
 * `ring` holds), with the next reads in flight while the caller works on the current chunk. A fresh buffer per
 * chunk, as createReadStream gives, costs page faults on every MiB; reusing a few keeps memory flat and hashing
 * near its in-memory speed. Each yielded chunk is valid only until the next iteration: copy what must outlive it.
 */
export async function* readChunks(
  file: string | FileHandle,
  range: { start?: number; end?: number } = {},
  ring: ArrayBufferLike = new ArrayBuffer(2 * READ_CHUNK),
): AsyncGenerator<Buffer> {
  const fh = typeof file === 'string' ? await open(file, 'r') : file;
  const depth = Math.floor(ring.byteLength / READ_CHUNK);
  const buffers = Array.from({ length: depth }, (_, i) => Buffer.from(ring, i * READ_CHUNK, READ_CHUNK));
  const end = range.end ?? Infinity;
  const inFlight: Array<{ read: Promise<{ bytesRead: number }>; wanted: number; buf: Buffer }> = [];
  let pos = range.start ?? 0;
  let issued = 0;
  let ended = false;
  const issue = () => {
    const wanted = Math.min(READ_CHUNK, end - pos);
    if (wanted <= 0 || ended) return;
    const buf = buffers[issued++ % depth]!;
    inFlight.push({ read: fh.read(buf, 0, wanted, pos), wanted, buf });
    pos += wanted;
  };
  try {
    while (issued < depth) {
      const before = issued;
      issue();
      if (issued === before) break;
    }
    for (let next = inFlight.shift(); next; next = inFlight.shift()) {
      const { bytesRead } = await next.read;
      if (bytesRead > 0 && ended) throw new Error('short read in the middle of a file');
      if (bytesRead < next.wanted) ended = true; // the end of the file: later reads must come back empty
      if (bytesRead === 0) continue;
      yield next.buf.subarray(0, bytesRead);
      issue(); // into the buffer the caller just gave back
    }
  } finally {
    // A consumer that stops early must not close the file under reads still in flight.
    await Promise.all(inFlight.map((f) => f.read.catch(() => {})));
    if (typeof file === 'string') await fh.close();
  }
}
