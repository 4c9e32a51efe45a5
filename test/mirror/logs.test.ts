/**
 * The mirror's logs and miss list are bounded and private: curl asks for hundreds of missing paths, and the access
 * log and miss log stop growing at their cap (rotated once to `.1`), the files are 0600 in a 0700 folder, each log is
 * held open once (not reopened per request), and /misses keeps only the latest while counting every one.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BUNDLE_MOUNTS } from '../../src/cli/mirror-mounts.js';
import { startMirror, type RunningMirror } from '../../src/mirror/server.js';
import { requireTools } from '../support/tools.js';

const CAP = 4096;
const KEEP = 50;
const REQUESTS = 300;
let tmp: string;
let logDir: string;
let mirror: RunningMirror;

beforeAll(async () => {
  requireTools('curl');
  tmp = mkdtempSync(join(tmpdir(), 'ksb-logs-'));
  const bundle = join(tmp, 'bundle');
  mkdirSync(join(bundle, 'repos/files'), { recursive: true });
  writeFileSync(join(bundle, 'repos/files/kubeadm'), 'kubeadm\n');
  logDir = join(tmp, 'state', 'logs');
  mirror = await startMirror({ bundleDir: bundle, mounts: BUNDLE_MOUNTS, port: 0, logDir, logMaxBytes: CAP, maxMisses: KEEP });
  // curl's URL globbing: 300 requests for missing files on one connection, then one that is served.
  await promisify(execFile)('curl', ['-s', '-o', '/dev/null', `${mirror.url}/files/missing-[1-${REQUESTS}]`, '-o', '/dev/null', `${mirror.url}/files/kubeadm`], { maxBuffer: 1 << 24 });
});

afterAll(async () => {
  await mirror?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const mode = (p: string) => statSync(p).mode & 0o777;

it('each log is held open once by the mirror, not opened per request', () => {
  const open = readdirSync('/proc/self/fd')
    .map((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        return '';
      }
    })
    .filter((target) => target.startsWith(logDir));
  expect(open.sort()).toEqual([join(logDir, 'access.log'), join(logDir, 'misses.jsonl')]);
});

it('/misses keeps the latest misses and counts them all; ?since= gives what came after a mark', async () => {
  const res = await fetch(`${mirror.url}/misses`);
  const list = (await res.json()) as Array<{ seq: number; path: string }>;
  expect(res.headers.get('x-ks-bundle-miss-count')).toBe(String(REQUESTS));
  expect(list.length).toBe(KEEP);
  expect(list.at(-1)).toMatchObject({ seq: REQUESTS, path: `/files/missing-${REQUESTS}` });
  const after = (await (await fetch(`${mirror.url}/misses?since=${REQUESTS - 2}`)).json()) as Array<{ seq: number }>;
  expect(after.map((m) => m.seq)).toEqual([REQUESTS - 1, REQUESTS]);
  expect(mirror.missCount).toBe(REQUESTS);
});

it('the access log and the miss log stop growing at the cap, keeping the latest lines', async () => {
  await mirror.close(); // flushes what is still queued for the files
  for (const name of ['access.log', 'misses.jsonl']) {
    const file = join(logDir, name);
    expect(statSync(file).size, name).toBeLessThanOrEqual(CAP);
    expect(statSync(`${file}.1`).size, `${name}.1`).toBeLessThanOrEqual(CAP);
    const lines = (readFileSync(`${file}.1`, 'utf8') + readFileSync(file, 'utf8')).trim().split('\n');
    // 301 lines of 60 bytes or more cannot fit in two files of 4 KiB: the oldest are gone.
    expect(lines.length, name).toBeLessThan(REQUESTS);
    expect(lines.join('\n'), name).toContain(`/files/missing-${REQUESTS}`);
    expect(lines.join('\n'), name).not.toMatch(/\/files\/missing-1\b/);
  }
  expect(readFileSync(join(logDir, 'access.log'), 'utf8')).toContain(`GET /files/missing-${REQUESTS} 404\n`);
  expect(readFileSync(join(logDir, 'access.log'), 'utf8')).toMatch(/ GET \/files\/kubeadm 200\n/);
  expect(readdirSync(logDir).sort()).toEqual(['access.log', 'access.log.1', 'misses.jsonl', 'misses.jsonl.1']);
});

it('the logs are private: 0600 files in a 0700 folder', () => {
  expect(mode(logDir)).toBe(0o700);
  for (const name of readdirSync(logDir)) expect(mode(join(logDir, name)), name).toBe(0o600);
});
