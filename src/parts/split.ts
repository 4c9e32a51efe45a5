import { open, readdir, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { InputError } from '../errors.js';
import type { OnProgress } from '../progress/events.js';
import { noProgress } from '../progress/events.js';
import { writeFileAtomic } from '../store/atomic.js';
import { readChunks } from '../store/chunked-read.js';
import { newSha256 } from '../store/hashing.js';
import { PARTS_SUFFIX, partName, renderParts, type PartRef } from './parts-file.js';

export interface SplitResult {
  partsFile: string;
  parts: Array<PartRef & { path: string; size: number }>;
}

/**
 * Cut a file into `<file>.part001`, `.part002`, … of at most `size` bytes each, whose concatenation is the file,
 * and write `<file>.parts` (sha256sum format) last, so a .parts file exists only for a complete set. One read of the
 * file, each part hashed as it is written: memory stays at two read buffers whatever the size.
 */
export async function splitFile(file: string, size: number, opts: { onProgress?: OnProgress } = {}): Promise<SplitResult> {
  const onProgress = opts.onProgress ?? noProgress;
  let total: number;
  try {
    const st = await stat(file);
    if (!st.isFile()) throw new Error('not a file');
    total = st.size;
  } catch {
    throw new InputError(`${file}: no such bundle file`, { hint: 'split cuts a bundle tarball (.tar, .tar.gz); an unpacked folder cannot be split.' });
  }
  const count = Math.max(1, Math.ceil(total / size));
  const dir = dirname(file);
  const base = basename(file);
  const parts: SplitResult['parts'] = [];
  let fh: FileHandle | undefined;
  let hash = newSha256();
  let inPart = 0;
  let done = 0;
  const startPart = async () => {
    const name = partName(base, parts.length, count);
    fh = await open(join(dir, name), 'w', 0o644);
    parts.push({ name, path: join(dir, name), sha256: '', size: 0 });
    hash = newSha256();
    inPart = 0;
  };
  const endPart = async () => {
    await fh!.close();
    fh = undefined;
    const p = parts.at(-1)!;
    p.sha256 = hash.digest('hex');
    p.size = inPart;
  };
  onProgress({ type: 'start', id: 'split', label: `split ${base}`, total });
  try {
    await startPart();
    for await (const chunk of readChunks(file)) {
      for (let off = 0; off < chunk.length; ) {
        if (inPart === size) {
          await endPart();
          await startPart();
        }
        const n = Math.min(size - inPart, chunk.length - off);
        const slice = chunk.subarray(off, off + n);
        hash.update(slice);
        // Awaited before the next read reuses the buffer.
        for (let w = 0; w < n; ) w += (await fh!.write(slice, w, n - w)).bytesWritten;
        inPart += n;
        off += n;
        done += n;
      }
      onProgress({ type: 'advance', id: 'split', bytes: done, total });
    }
    await endPart();
    const partsFile = file + PARTS_SUFFIX;
    await writeFileAtomic(partsFile, renderParts(parts));
    await removeStaleParts(dir, base, new Set(parts.map((p) => p.name)));
    onProgress({ type: 'done', id: 'split', bytes: done, cached: false });
    return { partsFile, parts };
  } catch (err) {
    await fh?.close().catch(() => {});
    for (const p of parts) await rm(p.path, { force: true });
    throw err;
  }
}

/** Parts of an earlier split into more pieces would sit beside the new set and mislead whoever copies the folder. */
async function removeStaleParts(dir: string, base: string, keep: Set<string>): Promise<void> {
  const pattern = new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.part[0-9]{3,}$`);
  for (const name of await readdir(dir)) if (pattern.test(name) && !keep.has(name)) await rm(join(dir, name), { force: true });
}
