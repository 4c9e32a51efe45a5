import { openBundle } from '../bundle/open.js';
import { BUNDLE_YAML, LOCK } from '../bundle/layout.js';
import { parseBundleMeta } from '../bundle/meta.js';
import { parseLock } from '../lock/lock.js';
import { InputError, ValidationError } from '../errors.js';
import { formatBytes, table } from '../progress/format.js';

/** `ks-bundle inspect`, its command line parsed (cli/inspect.ts). */
export async function inspectAction(bundle: string, o: { json?: boolean }): Promise<void> {
  // inspect reads what the bundle says about itself without checking it: `verify` does that.
  const files = await (await openBundle(bundle)).peek([BUNDLE_YAML, LOCK]);
  const metaText = files.get(BUNDLE_YAML);
  const lockText = files.get(LOCK);
  if (!metaText || !lockText) throw new InputError(`${bundle}: not a ks-bundle bundle (no ${!metaText ? BUNDLE_YAML : LOCK})`);
  const parsed = parseBundleMeta(metaText, `${bundle}:${BUNDLE_YAML}`);
  if (!parsed.meta) throw new ValidationError(`${bundle}:${BUNDLE_YAML}`, parsed.problems, 'Check the bundle with `ks-bundle verify`; it may be damaged or of another ks-bundle release.');
  const meta = parsed.meta;
  const lock = parseLock(lockText, `${bundle}:${LOCK}`);
  if (o.json) {
    process.stdout.write(JSON.stringify({ bundle: meta, artifacts: lock.artifacts }, null, 2) + '\n');
    return;
  }
  process.stdout.write(`${meta.name} ${meta.version}  (format ${meta.formatVersion}, from ${meta.manifest.file})\n`);
  process.stdout.write(`targets: ${meta.targets.map((t) => `${t.os}/${t.arch} (python ${t.python})`).join(', ')}\n\n`);
  const kinds = Object.keys(meta.counts).filter((k) => meta.counts[k]! > 0);
  process.stdout.write(table([['KIND', 'COUNT', 'SIZE'], ...kinds.map((k) => [k, String(meta.counts[k]), formatBytes(meta.bytes[k] ?? 0)])]) + '\n\n');
  const rows = lock.artifacts
    .filter((a) => a.kind !== 'blob')
    .map((a) => [a.kind, a.name, a.version ?? '', `sha256:${a.sha256.slice(0, 16)}…`, formatBytes(a.size)]);
  process.stdout.write(table([['KIND', 'NAME', 'VERSION', 'DIGEST', 'SIZE'], ...rows]) + '\n');
}
