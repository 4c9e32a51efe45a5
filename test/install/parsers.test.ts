import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyLine } from '../../src/install/ansible-output.js';
import { judgeFacts } from '../../src/install/preflight-rules.js';
import type { NodeFacts } from '../../src/nodes/facts.js';

// Captured from ansible-playbook (ansible-core 2.14) running a two-host play in which one task fails on one host.
const SAMPLE = readFileSync(join(import.meta.dirname, 'samples', 'ansible-2.14-failed-task.txt'), 'utf8');

describe("ansible-playbook's console output", () => {
  const lines = SAMPLE.split('\n').map(classifyLine);

  it('counts the tasks and names the failed one with its host and message', () => {
    expect(lines.filter((l) => l.kind === 'task').map((l) => (l as { name: string }).name)).toEqual(['say hello', 'this one fails on purpose', 'after the failure']);
    expect(lines.filter((l) => l.kind === 'failed')).toEqual([{ kind: 'failed', host: 'beta', message: 'non-zero return code' }]);
  });

  it('reads the PLAY RECAP into a row per host', () => {
    const rows = lines.filter((l) => l.kind === 'recap-row').map((l) => (l as { row: unknown }).row);
    expect(rows).toEqual([
      { host: 'alpha', ok: 2, changed: 1, unreachable: 0, failed: 0, skipped: 1, rescued: 0, ignored: 0 },
      { host: 'beta', ok: 1, changed: 1, unreachable: 0, failed: 1, skipped: 0, rescued: 0, ignored: 0 },
    ]);
  });
});

describe('preflight rules (the seed table: minimum 8/12/40, recommended 16/32/100)', () => {
  const GiB = 1024 ** 3;
  const node = (cpus: number, mem: number, disk: number, os = ['debian', '12'], arch = 'amd64'): NodeFacts => ({
    osId: os[0]!, osVersionId: os[1]!, machine: 'x86_64', arch, cpus, memoryBytes: mem * GiB, diskBytes: disk * GiB, diskFreeBytes: disk * GiB,
  });
  const targets = [{ os: 'debian-12', arch: 'amd64' }];

  it('passes a recommended node, warns below recommended, fails below minimum', () => {
    expect(judgeFacts(node(16, 32, 100), targets)).toEqual({ level: 'ok', notes: [] });
    expect(judgeFacts(node(8, 16, 50), targets).level).toBe('warn');
    const small = judgeFacts(node(2, 4, 20), targets);
    expect(small.level).toBe('fail');
    expect(small.notes).toEqual(['2 CPUs < minimum 8', '4.0 GiB memory < minimum 12', '20 GiB disk < minimum 40']);
  });

  it('--ignore-preflight turns hardware failures into warnings, never a wrong OS or arch', () => {
    expect(judgeFacts(node(2, 4, 20), targets, { ignoreHardware: true }).level).toBe('warn');
    const wrong = judgeFacts(node(16, 32, 100, ['ubuntu', '22.04'], 'arm64'), targets, { ignoreHardware: true });
    expect(wrong.level).toBe('fail');
    expect(wrong.notes[0]).toMatch(/ubuntu-22.04\/arm64 is not among the bundle's targets \(debian-12\/amd64\)/);
  });
});
