/**
 * One flag for the address a mirror listens on, and the installer reaches its mirror there: the mirror service
 * started with `--listen 127.0.0.2` answers on 127.0.0.2 and not on 127.0.0.1, and the installer's health check
 * finds it (it waited on 127.0.0.1 before). `serve --host`, the old spelling, still works and says it is deprecated.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMirrorService, stopMirrorService } from '../../src/install/mirror-service.js';
import { freePort } from '../images/support.js';
import { CLI, runCli } from '../support/cli.js';
import { requireTools } from '../support/tools.js';
import { curl, serveCli, writeTestMeta } from './support.js';

let tmp: string;
let bundle: string;

beforeAll(() => {
  requireTools('curl');
  tmp = mkdtempSync(join(tmpdir(), 'ksb-listen-'));
  bundle = join(tmp, 'bundle');
  mkdirSync(join(bundle, 'repos/files'), { recursive: true });
  writeFileSync(join(bundle, 'repos/files/kubeadm'), 'kubeadm\n');
  writeTestMeta(bundle, 'listen');
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('the installer\'s mirror service', () => {
  it('listens where it is told, is reached there, and keeps its logs private', async () => {
    const port = await freePort();
    const stateDir = join(tmp, 'state');
    const service = await startMirrorService({ bundleDir: bundle, serves: '0'.repeat(64), stateDir, listen: '127.0.0.2', port, advertise: '127.0.0.2', command: [process.execPath, CLI], systemd: false });
    try {
      expect(service.how).toBe('process');
      expect(service.localUrl).toBe(`http://127.0.0.2:${port}`);
      expect(await curl(`http://127.0.0.2:${port}/files/kubeadm`)).toEqual({ status: 200, body: 'kubeadm\n' });
      // Nothing answers on loopback's usual address: curl exits 7 (could not connect).
      await expect(promisify(execFile)('curl', ['-s', `http://127.0.0.1:${port}/healthz`])).rejects.toMatchObject({ code: 7 });
      expect(statSync(service.logDir).mode & 0o777).toBe(0o700);
      expect(statSync(join(service.logDir, 'mirror.log')).mode & 0o777).toBe(0o600);
      expect(statSync(join(service.logDir, 'access.log')).mode & 0o777).toBe(0o600);
      // Asked again, it finds the running one at the same address instead of starting another.
      const again = await startMirrorService({ bundleDir: bundle, serves: '0'.repeat(64), stateDir, listen: '127.0.0.2', port, advertise: '127.0.0.2', command: [process.execPath, CLI], systemd: false });
      expect(again.how).toBe('already running');
    } finally {
      await stopMirrorService(stateDir);
    }
  });

  it("replaces the mirror of the release before (another bundle on the port), and names the bundle on /healthz", async () => {
    const port = await freePort();
    const state = join(tmp, 'upgrade-state');
    const next = join(tmp, 'next');
    mkdirSync(join(next, 'repos/files'), { recursive: true });
    writeFileSync(join(next, 'repos/files/kubeadm'), 'kubeadm v2\n');
    writeFileSync(join(next, 'bundle.yaml'), readFileSync(join(bundle, 'bundle.yaml'), 'utf8').replace(/^sha256sums: '?0{64}'?$/m, `sha256sums: '${'1'.repeat(64)}'`));
    const opts = { listen: '127.0.0.2', port, advertise: '127.0.0.2', command: [process.execPath, CLI], systemd: false };
    const old = await startMirrorService({ ...opts, bundleDir: bundle, serves: '0'.repeat(64), stateDir: join(state, 'listen-1') });
    try {
      const healthz = () => promisify(execFile)('curl', ['-si', `http://127.0.0.2:${port}/healthz`]).then((r) => r.stdout);
      expect(await healthz()).toMatch(new RegExp(`^x-ks-bundle-serves: ${'0'.repeat(64)}\r$`, 'mi'));
      const neu = await startMirrorService({ ...opts, bundleDir: next, serves: '1'.repeat(64), stateDir: join(state, 'listen-2') });
      expect(neu.how).toBe('process');
      expect(neu.pid).not.toBe(old.pid);
      // The old process is gone, and the port serves the new bundle's bytes.
      expect(() => process.kill(old.pid!, 0)).toThrow();
      expect(await healthz()).toMatch(new RegExp(`^x-ks-bundle-serves: ${'1'.repeat(64)}\r$`, 'mi'));
      expect(await curl(`http://127.0.0.2:${port}/files/kubeadm`)).toEqual({ status: 200, body: 'kubeadm v2\n' });
    } finally {
      await stopMirrorService(join(state, 'listen-2'));
      await stopMirrorService(join(state, 'listen-1'));
    }
  });
});

describe('one flag for one thing', () => {
  it('keygen writes its keys to --out DIR (its documented contract, -o as on build); --output works too, silently', async () => {
    const r = await runCli(['keygen', '--out', join(tmp, 'keys')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('deprecated');
    expect(statSync(join(tmp, 'keys', 'private.asc')).mode & 0o777).toBe(0o600);
    const other = await runCli(['keygen', '--output', join(tmp, 'keys2')]);
    expect(other.code, other.stderr).toBe(0);
    expect(statSync(join(tmp, 'keys2', 'public.asc')).isFile()).toBe(true);
    const help = await runCli(['keygen', '--help']);
    expect(help.stdout).toContain('-o, --out <dir>');
    expect((await runCli(['build', '--help'])).stdout).toContain('-o, --output <');
  });

  it('--listen is the flag; --host still works, hidden, with a warning', async () => {
    const s = await serveCli([bundle, '--no-verify', '--host', '127.0.0.3', '--port', '0']);
    try {
      expect(s.url).toMatch(/^http:\/\/127\.0\.0\.3:\d+$/);
      expect((await curl(`${s.url}/healthz`)).status).toBe(200);
      expect(s.stderr()).toContain('--host is deprecated; use --listen');
    } finally {
      await s.stop();
    }
    const help = await runCli(['serve', '--help']);
    expect(help.stdout).toContain('--listen <address>');
    expect(help.stdout).not.toContain('--host');
    expect(help.stdout).toMatch(/Examples:[\s\S]*--listen 10\.0\.0\.5/);
    const install = await runCli(['install', '--help']);
    expect(install.stdout).toContain('--listen <address>');
    expect(install.stdout).toMatch(/Examples:[\s\S]*--listen 10\.0\.0\.5/);
  });
});
