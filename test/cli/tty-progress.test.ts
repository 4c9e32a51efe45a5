import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_BUNDLED, runCli } from '../support/cli.js';
import { manifestHead } from '../support/manifest-head.js';
import { requireTools } from '../support/tools.js';

/**
 * A person at a terminal sees bars; a pipe gets plain lines. The bar library is loaded only for a terminal, so both
 * sides are run as users run them: the built CLI under util-linux `script` (a real pseudo-terminal), and in a pipe.
 */
const root = mkdtempSync(join(tmpdir(), 'ksb-tty-'));
const bundle = join(root, 'tty.tar');
// Cursor hidden while bars draw, shown again after: what a terminal receives around cli-progress's bars.
const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';

/** The CLI on a pseudo-terminal: its exit code and everything the terminal received (stdout and stderr). */
function onTerminal(args: string[]): { code: number | null; screen: string } {
  const quoted = [process.execPath, CLI_BUNDLED, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('script', ['-qefc', quoted, '/dev/null'], { encoding: 'utf8', cwd: root });
  return { code: r.status, screen: r.stdout };
}

beforeAll(() => {
  requireTools('script');
  mkdirSync(join(root, 'pb'));
  writeFileSync(join(root, 'pb', 'site.yml'), '- hosts: all\n  tasks: []\n');
  writeFileSync(join(root, 'm.yaml'), `${manifestHead('tty')}  playbooks: {path: ./pb, entry: site.yml}\n`);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('progress on a terminal and in a pipe', () => {
  it('build and verify draw bars on a terminal, then print their report', () => {
    const built = onTerminal(['build', '-m', join(root, 'm.yaml'), '-o', bundle, '--cache', join(root, 'cache')]);
    expect(built.code, built.screen).toBe(0);
    expect(built.screen).toContain(HIDE_CURSOR);
    expect(built.screen).toMatch(/overall\s+\|[█░]+\| \d+%/);

    const verified = onTerminal(['verify', bundle, '--allow-missing']);
    expect(verified.code, verified.screen).toBe(0);
    expect(verified.screen).toMatch(/verify bundle\s+\|[█░]+\| \d+% [\d.]+ [KMG]iB\/[\d.]+ [KMG]iB/);
    expect(verified.screen).toContain(SHOW_CURSOR);
    expect(verified.screen).toContain('ok       every file matches SHA256SUMS');
  });

  it('verify in a pipe prints plain lines, with no terminal control codes', async () => {
    const r = await runCli(['verify', bundle, '--allow-missing'], { bundled: true });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^done {4}verify bundle \(\d+(\.\d)? [KMG]iB\)$/m);
    expect(r.stderr + r.stdout).not.toContain('\x1b[');
    expect(r.stdout).toContain('ok       every file matches SHA256SUMS');
  });
});
