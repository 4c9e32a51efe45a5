import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { KsBundleError } from '../errors.js';
import { startWorkerModule } from '../util/worker-module.js';
import type { HashAnswer, HashRequest } from './hash-worker.js';

/**
 * Hash files on every core (two threads on a two-core taskbox), each thread taking the next file when it is done
 * with one. `onHashed` sees each file as it finishes, in completion order. Memory stays flat: each thread reads
 * through one 1 MiB buffer.
 */
export async function hashFilesInParallel(
  files: ReadonlyArray<{ path: string; size: number }>,
  onHashed: (index: number, sha256: string) => void,
): Promise<void> {
  const threads = Math.max(1, Math.min(availableParallelism(), 4, files.length));
  const workers: Worker[] = [];
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: threads }, async () => {
        const worker = startWorkerModule(new URL('./hash-worker.js', import.meta.url));
        workers.push(worker);
        let waiting: { resolve: (m: HashAnswer) => void; reject: (err: unknown) => void } | undefined;
        worker.on('message', (m: HashAnswer) => waiting?.resolve(m));
        worker.on('error', (err) => waiting?.reject(err));
        worker.on('exit', (code) => waiting?.reject(new KsBundleError('FAILED', `the hashing thread stopped (exit ${code})`)));
        const ask = (id: number) =>
          new Promise<HashAnswer>((resolve, reject) => {
            waiting = { resolve, reject };
            worker.postMessage({ id, path: files[id]!.path } satisfies HashRequest);
          });
        while (next < files.length) {
          const id = next++;
          const answer = await ask(id);
          if ('error' in answer) {
            throw new KsBundleError('FAILED', `${files[id]!.path}: cannot read it (${answer.error.code}: ${answer.error.message})`);
          }
          onHashed(id, answer.sha256);
        }
      }),
    );
  } finally {
    for (const w of workers) w.removeAllListeners('exit');
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
