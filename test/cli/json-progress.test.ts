import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { startFaultUpstream, type FaultUpstream } from '../support/fault-upstream.js';
import { sha256sum } from '../support/sha256sum.js';
import { requireTools } from '../support/tools.js';
import { manifestHead } from '../support/manifest-head.js';

/**
 * `build --json` is read by pipes and people: at most ten progress lines a second, plus one line per finished
 * artifact and a few for phases. Four dribbled downloads in parallel hand over thousands of chunks.
 */
const root = mkdtempSync(join(tmpdir(), 'ksb-jsonprog-'));
let up: FaultUpstream;
const files = ['a.bin', 'b.bin', 'c.bin', 'd.bin'];

beforeAll(async () => {
  requireTools('tar', 'sha256sum');
  mkdirSync(join(root, 'up'));
  mkdirSync(join(root, 'pb'));
  writeFileSync(join(root, 'pb', 'site.yml'), '- hosts: all\n  tasks: []\n');
  for (const f of files) writeFileSync(join(root, 'up', f), randomBytes(24 << 20));
  writeFileSync(join(root, 'up', 'pod.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n');
  up = await startFaultUpstream(join(root, 'up'));
});
afterAll(async () => {
  await up?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('build --json', () => {
  it('prints at most 10 progress lines a second, one line per finished artifact, every line JSON', async () => {
    for (const f of files) up.faults.set(`/${f}`, [{ kind: 'slow', delayMs: 2 }]);
    const m = join(root, 'm.yaml');
    writeFileSync(
      m,
      `${manifestHead('jsonprog')}  files:
${files.map((f) => `    - {url: "${up.url}/${f}", sha256: ${sha256sum(join(root, 'up', f))}}`).join('\n')}
  manifests:
    - {url: "${up.url}/pod.yaml", sha256: ${sha256sum(join(root, 'up', 'pod.yaml'))}}
  playbooks: {path: ./pb, entry: site.yml}
`,
    );
    const out = join(root, 'jsonprog.tar');
    const t0 = process.hrtime.bigint();
    const r = await runCli(['build', '-m', m, '-o', out, '--cache', join(root, 'cache'), '--json']);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    const events = lines.map((l) => JSON.parse(l) as { event: string; id?: string; label?: string });
    const artifacts = execFileSync('tar', ['-xOf', out, 'jsonprog-1.0.0/SHA256SUMS'], { encoding: 'utf8' }).trim().split('\n').length;
    const progress = events.filter((e) => e.event === 'progress').length;
    const done = events.filter((e) => e.event === 'done');
    // Each file's download was seen in flight, and finished once, by name.
    for (const f of files) expect(done.filter((e) => e.label === `file ${f}`)).toHaveLength(1);
    expect(done.length).toBeLessThanOrEqual(artifacts + 2);
    expect(progress).toBeLessThanOrEqual(Math.ceil(10 * seconds) + 1);
    expect(lines.length).toBeLessThanOrEqual(10 * seconds + artifacts + 20);
    expect(events.at(-1)!.event).toBe('result');
  });
});
