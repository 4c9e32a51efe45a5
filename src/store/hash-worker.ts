import { Worker } from 'node:worker_threads';

// Inline so the single-file installer (bin/ks-bundle.mjs) needs no second file.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const open = new Map();
parentPort.on('message', (m) => {
  if (m.t === 'u') {
    let h = open.get(m.id);
    if (!h) open.set(m.id, (h = createHash('sha256')));
    h.update(m.b);
  } else {
    const h = open.get(m.id) || createHash('sha256');
    open.delete(m.id);
    parentPort.postMessage({ id: m.id, hex: h.digest('hex') });
  }
});
`;

/**
 * SHA-256 on a second core. The reading thread copies each chunk into a message (memcpy is several times faster
 * than hashing) and goes on reading and parsing while the worker hashes, so verify runs at the slower of the disk
 * and one core's hash speed instead of their sum. Messages keep their order, so chunks of one file hash in order.
 */
export class BackgroundHasher {
  private readonly worker = new Worker(WORKER_SOURCE, { eval: true });
  private readonly waiting = new Map<number, (hex: string) => void>();
  private nextId = 0;
  private inFlight = 0;

  constructor(private readonly maxInFlightBytes = 16 << 20) {
    this.worker.on('message', (m: { id: number; hex: string }) => {
      const done = this.waiting.get(m.id)!;
      this.waiting.delete(m.id);
      done(m.hex);
    });
  }

  open(): number {
    return this.nextId++;
  }

  /** Resolves at once unless too many bytes are queued for the worker; then when it has caught up. */
  update(id: number, chunk: Buffer): Promise<void> | undefined {
    this.inFlight += chunk.length;
    this.worker.postMessage({ t: 'u', id, b: chunk });
    // The worker reports only digests, so queued bytes are bounded by asking for a cheap digest-free sync point.
    if (this.inFlight < this.maxInFlightBytes) return undefined;
    this.inFlight = 0;
    return this.sync();
  }

  digest(id: number): Promise<string> {
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.worker.postMessage({ t: 'd', id });
    });
  }

  /** A round trip through the worker's queue: everything posted before it has been hashed. */
  private sync(): Promise<void> {
    const id = this.open();
    return this.digest(id).then(() => undefined);
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
