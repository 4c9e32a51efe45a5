import { startMirror } from '../mirror/server.js';
import { openBundle } from '../bundle/open.js';
import { writeFileAtomic } from '../store/atomic.js';
import { createRenderer, progressMode } from './progress.js';
import { BUNDLE_MOUNTS } from './mirror-mounts.js';

/** `ks-bundle serve`, its command line parsed (cli/serve.ts). */
export async function serveAction(bundle: string, o: Record<string, any>): Promise<void> {
  const renderer = await createRenderer(progressMode(false));
  const opened = await openBundle(bundle)
    .then((b) => b.unpack({ dataDir: o.dataDir, onProgress: renderer.onProgress, verify: o.verify, base: o.base }))
    .finally(() => renderer.stop());
  const dir = opened.dir;
  const mirror = await startMirror({
    bundleDir: dir,
    mounts: BUNDLE_MOUNTS,
    listen: o.listen,
    port: o.port,
    logDir: o.logDir,
    serves: opened.meta.sha256sums,
  });
  if (o.pidFile) await writeFileAtomic(o.pidFile, `${process.pid}\n`);
  process.stdout.write(`serving ${dir} on ${o.listen} port ${mirror.port}, here at ${mirror.url}/ (read-only; Ctrl-C stops)\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await mirror.close();
  if (mirror.missCount) process.stdout.write(`${mirror.missCount} request(s) the bundle could not serve; see /misses or the miss log\n`);
}
