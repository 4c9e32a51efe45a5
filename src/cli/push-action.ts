import { pushBundleImages } from '../images/push.js';
import { createRenderer, progressMode } from './progress.js';
import { openBundle } from '../bundle/open.js';
import { httpClientFromEnv } from './http.js';
import { formatBytes } from '../progress/format.js';

/** `ks-bundle push`, its command line parsed (cli/push.ts). */
export async function pushAction(bundle: string, o: Record<string, any>): Promise<void> {
  const renderer = await createRenderer(progressMode(!!o.json));
  const http = httpClientFromEnv();
  try {
    const { dir } = await (await openBundle(bundle)).unpack({ dataDir: o.dataDir, onProgress: renderer.onProgress });
    const s = await pushBundleImages(dir, { registry: o.registry, authFile: o.registryAuth, insecure: !!o.insecure, ca: o.ca, concurrency: o.concurrency, onProgress: renderer.onProgress, http });
    renderer.stop();
    process.stdout.write(
      `pushed ${s.images} image(s) to ${o.registry}: ${s.upToDate} already up to date, ${s.blobsUploaded} blob(s) uploaded (${formatBytes(s.bytesUploaded)}), ` +
        `${s.blobsMounted} mounted, ${s.blobsPresent} already there, ${s.manifestsPut} manifest(s) written\n`,
    );
  } finally {
    renderer.stop();
    await http.close();
  }
}
