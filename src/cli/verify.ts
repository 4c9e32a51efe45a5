import { Command } from 'commander';
import { verifyBundle, integrityError } from '../bundle/verify.js';
import { createRenderer, progressMode } from './progress.js';
import { formatBytes, formatDuration } from '../progress/format.js';

export function verifyCommand(): Command {
  return new Command('verify')
    .description('Check every byte of a bundle against its SHA256SUMS without unpacking it (exit 3 on any problem)')
    .argument('<bundle>', 'a bundle .tar, .tar.gz, or an unpacked bundle folder')
    .option('--json', 'the report as JSON')
    .addHelpText('after', '\nExample:\n  ks-bundle verify bundles/demo-0.1.0.tar')
    .action(async (bundle: string, o) => {
      const renderer = createRenderer(o.json ? 'quiet' : progressMode(false));
      const t0 = Date.now();
      const report = await verifyBundle(bundle, { onProgress: renderer.onProgress }).finally(() => renderer.stop());
      if (o.json) {
        const { digests: _d, ...rest } = report;
        process.stdout.write(JSON.stringify(rest, null, 2) + '\n');
        if (!report.ok) process.exitCode = 3;
        return;
      }
      const m = report.meta ?? {};
      process.stdout.write(`bundle   ${m.name ?? '?'} ${m.version ?? '?'} (format ${m.formatVersion ?? '?'})\n`);
      process.stdout.write(`checked  ${report.files} files, ${formatBytes(report.bytes)} in ${formatDuration(Date.now() - t0)}\n`);
      if (report.skipped.length) process.stdout.write(`skipped  ${report.skipped.join(', ')} (yours to edit; the .example copies are checked)\n`);
      if (!report.ok) throw integrityError(bundle, report.problems);
      process.stdout.write('ok       every file matches SHA256SUMS, and SHA256SUMS matches bundle.yaml\n');
    });
}
