import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { startWorkerModule } from '../util/worker-module.js';
import { KsBundleError, localFailure } from '../errors.js';
import { newSha256 } from '../store/hashing.js';
import { readChunks } from '../store/chunked-read.js';
import { changedDuringBuild, itemHead, type TarItem } from './tar-writer.js';
import { failureOf, pack, type PackFailure, type PackJob, type PackMessage } from './tar-pack-worker.js';

/** The packing thread's failure as the user's: no space names the folder, a changed file names the file. */
function packFailure(f: PackFailure, out: string): KsBundleError {
  if (f.code === 'ECHANGED') return changedDuringBuild(f.path ?? out, f.message);
  const cause = Object.assign(new Error(f.message), { code: f.code, path: f.path });
  if (f.path === out) return localFailure(cause, dirname(out), 'packing the bundle');
  return new KsBundleError('FAILED', `${f.path ?? out}: cannot read it while packing (${f.code})`, { cause, hint: 'Something removed or locked a file in the cache during the build; run it again.' });
}

export interface PackOptions {
  /** Hash the archive (for its sidecar); false when the caller already knows its digest. */
  hash: boolean;
  onBytes?: (n: number) => void;
}

/**
 * Pack `items` into the new file `out` as a plain tar, the same bytes writeTarStream gives, and return its size and,
 * when asked, its sha256. To hash, a second thread writes the archive (large bodies copied by the kernel) and says how
 * far it got, and this one hashes the file behind it, reading back what is on disk: the digest is of the bytes
 * written, and writing and hashing each run on a core of their own. Without hashing, this thread writes it. The file
 * is created with `wx`; on failure the caller removes it.
 */
export async function packTarFile(out: string, items: TarItem[], opts: PackOptions): Promise<{ sha256?: string; bytes: number }> {
  const plan = items.map((i) => ({ head: itemHead(i), file: i.file, data: i.data, size: i.type === 'File' ? i.size : 0 }));
  const bodyBytes = plan.reduce((n, i) => n + (i.file ? i.size : 0), 0);
  let reported = 0;
  const report = (upTo: number) => {
    // Progress in file bytes, as the other writers count it; the tar's own bytes run slightly ahead.
    const now = Math.min(bodyBytes, upTo);
    if (now > reported) opts.onBytes?.(now - reported);
    reported = now;
  };
  if (!opts.hash) {
    const bytes = await pack({ out, items: plan }, (m) => 'written' in m && report(m.written)).catch((err: unknown) => Promise.reject(packFailure(failureOf(err, out), out)));
    report(bytes);
    return { bytes };
  }
  const hash = newSha256();
  const worker = startWorkerModule(new URL('./tar-pack-worker.js', import.meta.url), { out, items: plan } satisfies PackJob);
  let written = 0;
  let total: number | undefined;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const changed = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  worker.on('message', (m: PackMessage) => {
    if ('error' in m) failure ??= packFailure(m.error, out);
    else if ('done' in m) total = m.bytes;
    else written = m.written;
    changed();
  });
  worker.on('error', (err) => {
    failure ??= err;
    changed();
  });
  worker.on('exit', (code) => {
    // Its work done, the thread ends by itself.
    if (total === undefined) failure ??= new KsBundleError('FAILED', `the packing thread stopped (exit ${code}) before ${out} was complete`);
    changed();
  });
  const next = () => new Promise<void>((resolve) => (wake = resolve));
  let fh: FileHandle | undefined;
  try {
    let hashed = 0;
    for (;;) {
      if (failure) throw failure;
      const end = total ?? written;
      if (hashed < end) {
        fh ??= await open(out, 'r');
        for await (const chunk of readChunks(fh, { start: hashed, end })) {
          hash.update(chunk);
          hashed += chunk.length;
          report(hashed);
        }
        continue;
      }
      if (total !== undefined) break;
      await next();
    }
    if (hashed !== total) throw new KsBundleError('FAILED', `${out}: ${hashed} bytes hashed of ${total} written`);
    return { sha256: hash.digest('hex'), bytes: total };
  } finally {
    await fh?.close();
    worker.removeAllListeners('exit');
    await worker.terminate();
  }
}
