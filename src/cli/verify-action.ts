import { integrityError } from '../bundle/verify.js';
import { openBundle } from '../bundle/open.js';
import { describeBase } from '../bundle/delta.js';
import { FORMAT_VERSION } from '../bundle/layout.js';
import { createRenderer, progressMode } from './progress.js';
import { checkCompleteness } from '../completeness/check.js';
import { completenessOptions, enforce, keptForCompleteness, viewOfRead } from '../completeness/gate.js';
import { formatBytes, formatDuration } from '../progress/format.js';
import { bundleSignatureCheck, signatureFileOf } from '../signature/bundle-signature.js';

/** `ks-bundle verify`, its command line parsed (cli/verify.ts). */
export async function verifyAction(bundle: string, o: { allowMissing?: boolean; key?: string; json?: boolean }): Promise<void> {
  const renderer = await createRenderer(o.json ? 'quiet' : progressMode(false));
  const t0 = Date.now();
  const opened = await openBundle(bundle);
  const signature = o.key ? await bundleSignatureCheck(bundle, o.key) : undefined;
  const report = await opened.verify({ onProgress: renderer.onProgress, keep: keptForCompleteness, check: signature }).finally(() => renderer.stop());
  // Checked only over bytes that all matched: a bundle with problems fails on them first.
  const signed = signature && report.ok ? await signature.finish() : undefined;
  const arches = (report.meta?.targets ?? []).map((t) => t.arch);
  const completeness = checkCompleteness(viewOfRead(report.digests.keys(), report.kept, arches), completenessOptions(report.meta?.kubespray));
  if (o.json) {
    const { digests: _d, kept: _k, fromBase, ...rest } = report;
    process.stdout.write(JSON.stringify({ ...rest, fromBase: fromBase.size, signature: signed, completeness }, null, 2) + '\n');
    if (!report.ok) process.exitCode = 3;
    else if (completeness.missing.length && !o.allowMissing) process.exitCode = 1;
    return;
  }
  const m = report.meta;
  const format = report.formatVersion === undefined ? 'format unknown' : `format ${report.formatVersion}`;
  process.stdout.write(`bundle   ${m ? `${m.name} ${m.version}` : '?'} (${format}; this ks-bundle reads format ${FORMAT_VERSION})\n`);
  process.stdout.write(`checked  ${report.files} files, ${formatBytes(report.bytes)} in ${formatDuration(Date.now() - t0)}\n`);
  if (report.skipped.length) process.stdout.write(`skipped  ${report.skipped.join(', ')} (yours to edit; the .example copies are checked)\n`);
  if (!report.ok) throw integrityError(bundle, report.problems);
  process.stdout.write('ok       every file matches SHA256SUMS, and SHA256SUMS matches bundle.yaml\n');
  if (m?.base) process.stdout.write(`delta    over ${describeBase(m.base)}: ${report.fromBase.size} listed file(s) come from it, checked when the delta is installed over it\n`);
  if (signed) process.stdout.write(`signed   by ${signed.fingerprint} on ${signed.created.toISOString()} (${signatureFileOf(bundle)})\n`);
  enforce(completeness, bundle, !!o.allowMissing, (e) => e.type === 'log' && process.stderr.write(`warning: ${e.message}\n`));
  process.stdout.write(`complete ${completeness.checked.images} image(s) and ${completeness.checked.files} file(s) the install asks for are all in the bundle\n`);
}
