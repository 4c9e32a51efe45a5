import { Command } from 'commander';
import { pushBundleImages } from '../images/push.js';
import { createRenderer, progressMode } from './progress.js';
import { openBundle } from '../bundle/open.js';
import { defaultDataDir, positiveInt } from './options.js';
import { httpClientFromEnv } from './http.js';
import { formatBytes } from '../progress/format.js';

export function pushCommand(): Command {
  return new Command('push')
    .description("Copy a bundle's images into an existing registry (Harbor, distribution), digests unchanged; a rerun sends nothing twice")
    .argument('<bundle>', 'a bundle .tar, .tar.gz, or an unpacked folder')
    .requiredOption('--registry <host[:port][/prefix]>', 'the target registry')
    .option('--registry-auth <file>', 'credentials in docker config.json format (also read: ~/.docker/config.json)')
    .option('--insecure', 'the registry speaks plain HTTP')
    .option('--ca <file>', "PEM file of the private CA that signed the registry's certificate (trusted besides the system CAs)")
    .option('--concurrency <n>', 'parallel blob uploads', positiveInt, 4)
    .option('--data-dir <dir>', 'where a tarball is unpacked first', defaultDataDir())
    .option('--json', 'progress as JSON lines')
    .addHelpText('after', '\nExample:\n  ks-bundle push bundles/demo-0.1.0.tar --registry harbor.example.local/library')
    .action(async (bundle: string, o) => {
      const renderer = createRenderer(progressMode(!!o.json));
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
    });
}
