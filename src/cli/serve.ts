import { Command } from 'commander';
import { join } from 'node:path';
import { startMirror } from '../mirror/server.js';
import { openBundle } from '../bundle/open.js';
import { writeFileAtomic } from '../store/atomic.js';
import { createRenderer, progressMode } from './progress.js';
import { defaultDataDir, port } from './options.js';

export function serveCommand(): Command {
  return new Command('serve')
    .description('Serve a bundle as a read-only mirror: /v2/ registry, /apt/, /pypi/simple/, /files/ (foreground)')
    .argument('<bundle>', 'a bundle .tar, .tar.gz, or an unpacked bundle folder')
    .option('--host <address>', 'address to listen on', '0.0.0.0')
    .option('--port <n>', 'port to listen on', port, 5080)
    .option('--data-dir <dir>', 'where a tarball is unpacked', defaultDataDir())
    .option('--log-dir <dir>', 'write access.log and misses.jsonl here')
    .option('--pid-file <file>', 'write the server pid here')
    .option('--no-verify', 'serve a folder without checking it first (the installer has just verified it); a tarball is always verified')
    .addHelpText('after', '\nExample:\n  ks-bundle serve bundles/demo-0.1.0.tar --port 5080\n  curl http://127.0.0.1:5080/healthz')
    .action(async (bundle: string, o) => {
      const renderer = createRenderer(progressMode(false));
      const opened = await openBundle(bundle)
        .then((b) => b.unpack({ dataDir: o.dataDir, onProgress: renderer.onProgress, verify: o.verify }))
        .finally(() => renderer.stop());
      const dir = opened.dir;
      const mirror = await startMirror({
        bundleDir: dir,
        host: o.host,
        port: o.port,
        accessLog: o.logDir ? join(o.logDir, 'access.log') : undefined,
        missLog: o.logDir ? join(o.logDir, 'misses.jsonl') : undefined,
      });
      if (o.pidFile) await writeFileAtomic(o.pidFile, `${process.pid}\n`);
      process.stdout.write(`serving ${dir} at http://${o.host}:${mirror.port}/ (read-only; Ctrl-C stops)\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await mirror.close();
      if (mirror.misses.length) process.stdout.write(`${mirror.misses.length} request(s) the bundle could not serve; see /misses or the miss log\n`);
    });
}
