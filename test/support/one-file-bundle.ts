import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { runCli } from './cli.js';
import { startFaultUpstream } from './fault-upstream.js';
import { sha256sum } from './sha256sum.js';
import { manifestHead } from './manifest-head.js';

/**
 * A real bundle holding one file of random bytes, built by the real CLI from a real upstream on loopback: what the
 * verify, split and sign tests start from. Uses `dir/up`, `dir/m.yaml` and `dir/cache`; the upstream is stopped
 * once the build is done.
 */
export async function buildOneFileBundle(dir: string, opts: { name: string; bytes: number; out: string; bundled?: boolean }): Promise<void> {
  await mkdir(join(dir, 'up'), { recursive: true });
  const file = join(dir, 'up', 'a.bin');
  await writeFile(file, randomBytes(opts.bytes));
  const up = await startFaultUpstream(join(dir, 'up'));
  try {
    await writeFile(
      join(dir, 'm.yaml'),
      `${manifestHead(opts.name)}  files:\n    - {url: "${up.url}/a.bin", sha256: ${sha256sum(file)}}\n`,
    );
    const r = await runCli(['build', '-m', join(dir, 'm.yaml'), '-o', opts.out, '--cache', join(dir, 'cache')], { bundled: opts.bundled });
    expect(r.code, r.stderr).toBe(0);
  } finally {
    await up.close();
  }
}
