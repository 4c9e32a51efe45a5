import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import {
  parseKnownHosts, checkHostKey, fingerprint, knownHostsLine, entryMatches, knownKeyTypes,
} from '../../src/nodes/known-hosts.js';
import { requireTools } from '../support/tools.js';

/** The pure known_hosts code on files and keys made by the real OpenSSH tools. */
describe('known_hosts', () => {
  let dir: string;
  const keys: Record<string, { type: string; key: string; fp: string }> = {};
  beforeAll(() => {
    requireTools('ssh-keygen');
    dir = mkdtempSync(join(tmpdir(), 'ksb-kh-'));
    for (const t of ['ed25519', 'ecdsa', 'rsa']) {
      const f = join(dir, `k_${t}`);
      execFileSync('ssh-keygen', ['-q', '-t', t, '-N', '', '-f', f]);
      const [type, key] = readFileSync(f + '.pub', 'utf8').split(' ') as [string, string];
      const fp = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', f + '.pub'], { encoding: 'utf8' }).split(' ')[1]!;
      keys[t] = { type, key, fp };
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fingerprints agree with ssh-keygen -l', () => {
    for (const k of Object.values(keys)) expect(fingerprint(k.key)).toBe(k.fp);
  });

  it('plain, ported, wildcard and negated patterns; markers; comments', () => {
    const { ed25519: e, rsa: r, ecdsa: c } = keys as Record<string, { type: string; key: string }>;
    const REVOKED = 'AAAAB3NzaC1yc2EAAAADAQABAAAAgQDrevokedkey';
    const text = [
      '# a comment',
      `node1,10.0.0.1 ${e!.type} ${e!.key} root@node1`,
      `[10.0.0.2]:2222 ${r!.type} ${r!.key}`,
      `*.example.com,!bad.example.com ${c!.type} ${c!.key}`,
      `@revoked * ${r!.type} ${REVOKED}`,
      '',
    ].join('\n');
    const es = parseKnownHosts(text);
    expect(es).toHaveLength(4);
    expect(checkHostKey(es, '10.0.0.1', 22, e!.type, e!.key)).toEqual({ status: 'known', line: 2 });
    expect(checkHostKey(es, 'node1', 22, r!.type, r!.key)).toEqual({ status: 'unknown' });
    expect(checkHostKey(es, '10.0.0.2', 2222, r!.type, r!.key)).toEqual({ status: 'known', line: 3 });
    expect(checkHostKey(es, '10.0.0.2', 22, r!.type, r!.key)).toEqual({ status: 'unknown' });
    expect(checkHostKey(es, 'a.example.com', 22, c!.type, c!.key).status).toBe('known');
    expect(checkHostKey(es, 'bad.example.com', 22, c!.type, c!.key).status).toBe('unknown');
    expect(checkHostKey(es, '10.0.0.1', 22, e!.type, keys['ecdsa']!.key.slice(0, 10)).status).toBe('changed');
    expect(checkHostKey(es, 'x', 22, r!.type, REVOKED)).toEqual({ status: 'revoked', line: 5 });
    expect(knownKeyTypes(es, 'node1', 22)).toEqual([e!.type]);
  });

  it('hashed names written by ssh-keygen -H match; our hashed lines are found by ssh-keygen -F', () => {
    const f = join(dir, 'kh');
    const e = keys['ed25519']!;
    writeFileSync(f, `10.1.1.1 ${e.type} ${e.key}\n[10.1.1.2]:2200 ${e.type} ${e.key}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', f], { stdio: 'ignore' });
    const es = parseKnownHosts(readFileSync(f, 'utf8'));
    expect(es.every((x) => x.hashed)).toBe(true);
    expect(checkHostKey(es, '10.1.1.1', 22, e.type, e.key).status).toBe('known');
    expect(checkHostKey(es, '10.1.1.2', 2200, e.type, e.key).status).toBe('known');
    expect(checkHostKey(es, '10.1.1.3', 22, e.type, e.key).status).toBe('unknown');

    const ours = join(dir, 'ours');
    writeFileSync(ours, knownHostsLine('10.9.9.9', 2022, e.type, e.key, { hash: true }) + '\n' + knownHostsLine('h', 22, e.type, e.key) + '\n');
    const found = execFileSync('ssh-keygen', ['-F', '[10.9.9.9]:2022', '-f', ours], { encoding: 'utf8' });
    expect(found).toContain(e.key);
    expect(execFileSync('ssh-keygen', ['-F', 'h', '-f', ours], { encoding: 'utf8' })).toContain(e.key);
    expect(entryMatches(parseKnownHosts(readFileSync(ours, 'utf8'))[0]!, '[10.9.9.9]:2022')).toBe(true);
  });
});
