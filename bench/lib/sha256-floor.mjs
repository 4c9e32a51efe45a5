// The least time any Node program takes to check BYTES bytes with sha256 on THREADS threads: node's start-up and the
// hashing alone, the bytes already in memory (no read, no tar, no copy). bench/verify-disk.ts runs it beside cat and
// `verify`, so the run itself shows how near to cat a verify on this machine can come.
// usage: node bench/lib/sha256-floor.mjs BYTES THREADS
import { createHash, randomFillSync } from 'node:crypto';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const CHUNK = 4 << 20;
if (isMainThread) {
  const [bytes, threads] = process.argv.slice(2).map(Number);
  const share = Math.ceil(bytes / threads);
  await Promise.all(
    Array.from({ length: threads }, () => new Promise((resolve, reject) => new Worker(new URL(import.meta.url), { workerData: share }).on('message', resolve).on('error', reject))),
  );
} else {
  // Random bytes, hashed over and over: sha256 costs the same whatever they are.
  const chunk = randomFillSync(Buffer.allocUnsafe(CHUNK));
  const h = createHash('sha256');
  for (let left = workerData; left > 0; left -= CHUNK) h.update(left >= CHUNK ? chunk : chunk.subarray(0, left));
  parentPort.postMessage(h.digest('hex'));
}
