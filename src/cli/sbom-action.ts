import { openBundle } from '../bundle/open.js';
import { integrityError } from '../bundle/verify.js';
import { LOCK } from '../bundle/layout.js';
import { IntegrityError } from '../errors.js';
import { parseLock } from '../lock/lock.js';
import { bundleSbom, type SbomFormat } from '../sbom/bundle-sbom.js';
import { writeFileAtomic } from '../store/atomic.js';
import { createRenderer, progressMode } from './progress.js';

/** `ks-bundle sbom`, its command line parsed (cli/sbom.ts). */
export async function sbomAction(bundle: string, o: { format: SbomFormat; output?: string }): Promise<void> {
  const renderer = await createRenderer(progressMode(false));
  const wanted = (rel: string) => rel === LOCK || rel.endsWith('.metadata');
  const report = await (await openBundle(bundle)).verify({ onProgress: renderer.onProgress, keep: wanted }).finally(() => renderer.stop());
  if (!report.ok) throw integrityError(bundle, report.problems);
  const lockText = report.kept.get(LOCK);
  if (lockText === undefined) throw new IntegrityError(`${bundle}: no ${LOCK} inside, so nothing to describe`, { hint: 'Rebuild the bundle with this ks-bundle.' });
  const text = bundleSbom(parseLock(lockText, `${bundle}:${LOCK}`), (path) => report.kept.get(path), o.format);
  if (o.output) await writeFileAtomic(o.output, text);
  else process.stdout.write(text);
}
