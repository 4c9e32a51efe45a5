import { dirname } from 'node:path';
import { startWorkerModule } from '../util/worker-module.js';
import { KsBundleError, localFailure } from '../errors.js';
import { newSha256 } from '../store/hashing.js';
import { changedDuringBuild, itemHead, type TarItem } from './tar-writer.js';
import type { PackFailure, PackJob, PackMessage } from './tar-pack-worker.js';

/**
 * Ring of slots the packing thread fills and this thread hashes: 16 × 128 KiB. Each byte crosses a slot three times
 * (read in, hashed, written out); a slot this size is still in the CPU cache for the second and third. With 1 MiB
 * slots every pass went to memory, and packing ran at 0.53–0.55× `tar cf`'s speed instead of 1.03–1.12×
 * (packing alone against `tar cf`, six alternating cold-cache pairs each).
 */
const SLOT = 1 << 17;
const DEPTH = 16;

/** The packing thread's failure as the user's: no space names the folder, a changed file names the file. */
function packFailure(f: PackFailure, out: string): KsBundleError {
  if (f.code === 'ECHANGED') return changedDuringBuild(f.path ?? out, f.message);
  const cause = Object.assign(new Error(f.message), { code: f.code, path: f.path });
  if (f.path === out) return localFailure(cause, dirname(out), 'packing the bundle');
  return new KsBundleError('FAILED', `${f.path ?? out}: cannot read it while packing (${f.code})`, { cause, hint: 'Something removed or locked a file in the cache during the build; run it again.' });
}

/**
 * Pack `items` into the new file `out` as a plain tar, the same bytes writeTarStream gives, and return its sha256.
 * A second thread does the reads and writes while this one hashes, so packing costs about what the disk and the hash
 * each cost, not their sum. The file is created with `wx`; on failure the caller removes it.
 */
export async function packTarFile(out: string, items: TarItem[], onBytes?: (n: number) => void): Promise<{ sha256: string; bytes: number }> {
  const ring = new SharedArrayBuffer(DEPTH * SLOT);
  const control = new SharedArrayBuffer(4);
  const released = new Int32Array(control);
  const slots = Buffer.from(ring);
  const hash = newSha256();
  let bytes = 0;
  let bodies = 0;
  const plan = items.map((i) => ({ head: itemHead(i), file: i.file, data: i.data, size: i.type === 'File' ? i.size : 0 }));
  const bodyBytes = plan.reduce((n, i) => n + (i.file ? i.size : 0), 0);
  const worker = startWorkerModule(new URL('./tar-pack-worker.js', import.meta.url), { out, items: plan, ring, slotSize: SLOT, control } satisfies PackJob);
  try {
    await new Promise<void>((resolve, reject) => {
      worker.on('message', (m: PackMessage) => {
        if ('error' in m) return reject(packFailure(m.error, out));
        if ('done' in m) return resolve();
        hash.update(slots.subarray(m.slot * SLOT, m.slot * SLOT + m.length));
        bytes += m.length;
        Atomics.add(released, 0, 1);
        Atomics.notify(released, 0);
        // Progress in file bytes, as the other writers count it; the tar's own bytes run slightly ahead.
        const now = Math.min(bodyBytes, bytes);
        if (now > bodies) onBytes?.(now - bodies);
        bodies = now;
      });
      worker.on('error', reject);
      worker.on('exit', (code) => reject(new KsBundleError('FAILED', `the packing thread stopped (exit ${code}) before ${out} was complete`)));
    });
  } finally {
    worker.removeAllListeners('exit');
    await worker.terminate();
  }
  return { sha256: hash.digest('hex'), bytes };
}
