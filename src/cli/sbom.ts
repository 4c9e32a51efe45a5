import { Command, Option } from 'commander';
import { openBundle } from '../bundle/open.js';
import { integrityError } from '../bundle/verify.js';
import { LOCK } from '../bundle/layout.js';
import { IntegrityError } from '../errors.js';
import { parseLock } from '../lock/lock.js';
import { bundleSbom, type SbomFormat } from '../sbom/bundle-sbom.js';
import { writeFileAtomic } from '../store/atomic.js';
import { createRenderer, progressMode } from './progress.js';

export function sbomCommand(): Command {
  return new Command('sbom')
    .description('Print the SBOM of a bundle, every artifact with its purl, SHA-256 and licence where known (verifies the bundle first)')
    .argument('<bundle>', 'a bundle .tar, .tar.gz, its .parts file, or an unpacked bundle folder')
    .addOption(new Option('--format <format>', 'CycloneDX 1.6 JSON or SPDX 2.3 JSON').choices(['cyclonedx', 'spdx']).default('cyclonedx'))
    .option('-o, --output <file>', 'write it to this file instead of stdout')
    .addHelpText('after', '\nThe CycloneDX one is the sbom.cdx.json the build put in the bundle.\n\nExample:\n  ks-bundle sbom bundles/demo-0.1.0.tar --format spdx -o demo.spdx.json')
    .action(async (bundle: string, o: { format: SbomFormat; output?: string }) => {
      const renderer = createRenderer(progressMode(false));
      const wanted = (rel: string) => rel === LOCK || rel.endsWith('.metadata');
      const report = await (await openBundle(bundle)).verify({ onProgress: renderer.onProgress, keep: wanted }).finally(() => renderer.stop());
      if (!report.ok) throw integrityError(bundle, report.problems);
      const lockText = report.kept.get(LOCK);
      if (lockText === undefined) throw new IntegrityError(`${bundle}: no ${LOCK} inside, so nothing to describe`, { hint: 'Rebuild the bundle with this ks-bundle.' });
      const text = bundleSbom(parseLock(lockText, `${bundle}:${LOCK}`), (path) => report.kept.get(path), o.format);
      if (o.output) await writeFileAtomic(o.output, text);
      else process.stdout.write(text);
    });
}
