import { buildBundle } from '../assemble/assemble.js';
import { formatBytes, formatDuration } from '../progress/format.js';
import { planOptionsOf } from './build-options.js';
import { withCancellableHttp } from './http.js';
import { createRenderer, progressMode } from './progress.js';

/** `ks-bundle build`, its command line parsed (cli/build.ts). */
export async function buildAction(o: Record<string, any>): Promise<void> {
  const renderer = await createRenderer(progressMode(!!o.json));
  const t0 = Date.now();
  try {
    const r = await withCancellableHttp((http, signal) => buildBundle({ ...planOptionsOf(o, http, signal, renderer.onProgress), allowMissing: !!o.allowMissing }));
    renderer.stop();
    if (o.json) {
      process.stdout.write(JSON.stringify({ event: 'result', bundle: r.bundle.path, sha256: r.bundle.sha256, bytes: r.bundle.bytes, files: r.bundle.files, lock: r.lockFiles }) + '\n');
    } else {
      process.stdout.write(
        `bundle  ${r.bundle.path}\n` +
          `files   ${r.bundle.files}, ${formatBytes(r.bundle.bytes)}\n` +
          (r.lock.base ? `delta   over ${r.lock.base.name} ${r.lock.base.version}: ${r.bundle.fromBase} file(s) left to it\n` : '') +
          (r.bundle.sha256 ? `sha256  ${r.bundle.sha256}\n` : '') +
          `lock    ${r.lockFiles.join(', ')}\n` +
          `took    ${formatDuration(Date.now() - t0)}\n`,
      );
    }
  } finally {
    renderer.stop();
  }
}
