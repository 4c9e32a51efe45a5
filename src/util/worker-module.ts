import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * Set by scripts/bundle-cli.mjs: each worker module's bundled source by its file name (`tar-pack-worker`). The
 * bundled CLI a bundle carries has no module of the worker's own name to start a thread from.
 */
declare const __KSB_WORKERS__: Record<string, string> | undefined;

/**
 * Start the worker thread whose module is `moduleUrl` (`new URL('./x-worker.js', import.meta.url)`): in the
 * bundled CLI from its inlined source, from dist/ the compiled file, and from the TypeScript sources (the tests)
 * through tsx, which they run under.
 */
export function startWorkerModule(moduleUrl: URL, workerData?: unknown): Worker {
  const name = basename(fileURLToPath(moduleUrl)).replace(/\.(js|ts)$/, '');
  const inlined = typeof __KSB_WORKERS__ === 'object' ? __KSB_WORKERS__[name] : undefined;
  if (inlined !== undefined) return new Worker(inlined, { eval: true, workerData });
  const js = new URL(`./${name}.js`, moduleUrl);
  if (existsSync(fileURLToPath(js))) return new Worker(js, { workerData });
  const ts = new URL(`./${name}.ts`, moduleUrl).href;
  return new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(ts)}); })`, { eval: true, workerData });
}
