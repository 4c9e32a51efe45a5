import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

const repo = resolve(import.meta.dirname, '..', '..');
const sh = (script: string) => execFileSync('sh', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] }).toString();

/**
 * A bundle tarball in `work` like a real one (a few big layers, many debs, lots of small wheels: 60/30/10% of `gib`
 * GiB of random bytes), packed by the real writer; `gib` under 0.01 makes a one-file bundle. Returns its path.
 */
export function makeMixedBundle(work: string, name: string, gib: number): string {
  const tree = join(work, `${name}-tree`);
  const kib = (g: number) => g * 1024 * 1024;
  const plan: Array<[string, number, number]> = gib < 0.01
    ? [['repos/files/one', 1, 4]]
    : [
        ['repos/images/blobs/sha256/layer', 6, kib(gib * 0.6) / 6],
        ['repos/apt/pool/pkg', 200, kib(gib * 0.3) / 200],
        ['repos/pip/files/wheel', 1000, kib(gib * 0.1) / 1000],
      ];
  for (const [prefix, count, size] of plan) {
    mkdirSync(join(tree, prefix, '..'), { recursive: true });
    for (let i = 0; i < count; i++) sh(`head -c ${Math.round(size)}K /dev/urandom > ${tree}/${prefix}-${i}.bin`);
  }
  sh(`cd ${tree} && find . -type f | sed 's|^./||' | LC_ALL=C sort | xargs -d '\\n' sha256sum > ${work}/${name}.sums`);
  const out = join(work, `${name}.tar`);
  execFileSync('node', [join(repo, 'bench/lib/pack-tree.mjs'), tree, join(work, `${name}.sums`), out], { cwd: repo });
  rmSync(tree, { recursive: true, force: true });
  return out;
}
