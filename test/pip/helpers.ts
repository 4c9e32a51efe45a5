export { layOut } from '../support/lay-out.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BuildContext } from '../../src/collector/context.js';
import type { LockEntry } from '../../src/lock/entry.js';
import type { ContentStore } from '../../src/store/content-store.js';
import { testContext, testManifest, testTarget } from '../support/context.js';
import { isolatedPipEnv } from '../fixtures/wheels/fixture.js';

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `ks-pip-${prefix}-`));
}

export function context(index: string, requirements: string[], opts: { store?: ContentStore; locked?: LockEntry[]; python?: string } = {}): BuildContext {
  const work = tempDir('work');
  const manifest = testManifest({ targets: [testTarget({ python: opts.python ?? '3.11' })], pip: { index, requirements } });
  return testContext(manifest, { store: opts.store ?? join(work, 'store'), workDir: work, retry: { retries: 0 }, locked: opts.locked });
}

/** What real pip would install for these requirements from this index, as wheel file names. */
export function pipOracle(index: string, requirements: string[], python = '3.11'): string[] {
  const report = join(tempDir('oracle'), 'report.json');
  execFileSync(
    'python3',
    ['-m', 'pip', 'install', '--dry-run', '--quiet', '--report', report, '--ignore-installed', '--isolated', '--index-url', index,
      '--python-version', python, '--only-binary=:all:', '--target', join(tempDir('target'), 'x'), ...requirements],
    { env: isolatedPipEnv(), stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const parsed = JSON.parse(readFileSync(report, 'utf8')) as { install: Array<{ download_info: { url: string } }> };
  return parsed.install.map((i) => decodeURIComponent(i.download_info.url.split('/').pop()!.split('#')[0]!)).sort();
}
