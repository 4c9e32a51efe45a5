/**
 * A pip index that is gone (nginx over an empty folder) with an alternate: the PEP 503 index of real wheels, served by
 * nginx, whose access log shows what the plan asked for. The plan resolves on the alternate reading core metadata from
 * PEP 658 files or through Range requests into the wheels, and downloads no wheel; the build then fetches what the
 * plan counted, the lock names the alternate, and real pip installs from the bundle's index served by the mirror.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildContext, KindOutput, KindPlan } from '../../src/collector/context.js';
import { UnavailableError } from '../../src/collector/run.js';
import { BUNDLE_MOUNTS } from '../../src/cli/mirror-mounts.js';
import { startMirror } from '../../src/mirror/server.js';
import { pipConf } from '../../src/nodes/wiring-files.js';
import { collectPip, planPip } from '../../src/pip/collect.js';
import { ContentStore } from '../../src/store/content-store.js';
import { isolatedPipEnv, serveStatic, wheelFixture } from '../fixtures/wheels/fixture.js';
import { startNginx, type Nginx } from '../support/nginx.js';
import { requireTools } from '../support/tools.js';
import { context, layOut, pipOracle, tempDir } from './helpers.js';

const REQS = ['ansible-core', 'netaddr', 'Jinja2'];
let fixture: string;
let gone: Nginx;
let wheels: Nginx;
/** What real pip picks for REQS from the fixture (asked of a server of its own, whose downloads are not counted). */
let oracle: string[];

function ctx(opts: { requirements?: string[]; alternates?: boolean; store?: string } = {}): BuildContext {
  const c = context(`${gone.url}/simple/`, opts.requirements ?? REQS, { store: opts.store ? new ContentStore(opts.store) : undefined });
  c.manifest.alternates = opts.alternates === false ? [] : [{ prefix: `${gone.url}/simple/`, to: [`${wheels.url}/simple/`] }];
  return c;
}

/** Requests for wheel content: a GET of a .whl without a Range header. */
const wheelGets = () => wheels.log().filter((l) => l.path.endsWith('.whl') && l.method === 'GET' && !l.range);

beforeAll(async () => {
  requireTools('nginx', 'python3', 'dpkg');
  fixture = wheelFixture();
  const empty = tempDir('empty');
  mkdirSync(join(empty, 'nothing'));
  gone = await startNginx(empty);
  wheels = await startNginx(fixture);
  const forOracle = await serveStatic(fixture);
  try {
    oracle = pipOracle(`${forOracle.url}/simple/`, REQS);
  } finally {
    await forOracle.close();
  }
}, 120_000);

afterAll(async () => {
  await wheels?.close();
  await gone?.close();
});

describe('pip index alternates', () => {
  const store = join(tempDir('store'), 'store');
  let plan: KindPlan;
  let out: KindOutput;

  it('plans on the alternate after the original answers 404, reading metadata without downloading a wheel', async () => {
    plan = await planPip(ctx({ store }));
    expect(plan.unavailable).toEqual([]);
    expect(gone.log().map((l) => `${l.method} ${l.path} ${l.status}`)).toEqual(['HEAD /simple/ 404']);
    const figures = plan.kinds.wheels!;
    expect(figures.count).toBe(oracle.length);
    expect(figures.cachedBytes).toBe(0);
    expect(wheelGets()).toEqual([]);
    // Wheels without a PEP 658 file were read through ranges (the fixture has some of each).
    const ranged = wheels.log().filter((l) => l.path.endsWith('.whl') && l.range);
    expect(ranged.length).toBeGreaterThan(0);
    for (const l of ranged) expect(l.status, `${l.path} ${l.range}`).toBe(206);
    expect(wheels.log().some((l) => l.path.endsWith('.whl.metadata') && l.status === 200)).toBe(true);
  }, 120_000);

  it('fetches exactly what the plan counted, from the alternate, and the lock says so', async () => {
    out = await plan.fetch();
    const files = out.entries.filter((e) => e.file);
    expect(files.length).toBe(plan.kinds.wheels!.count);
    expect(files.reduce((n, e) => n + statSync(e.file!).size, 0)).toBe(plan.kinds.wheels!.bytes);
    expect(wheelGets().map((l) => l.path).sort()).toEqual(files.map((e) => `/files/${e.path.split('/').pop()}`).sort());
    expect(plan.generatedBytes).toBe(out.entries.filter((e) => e.data).reduce((n, e) => n + e.size, 0));
    expect(out.lock.map((l) => l.name).sort()).toEqual(oracle);
    for (const l of out.lock) expect(l.source).toBe(`${wheels.url}/files/${l.name}`);
  }, 120_000);

  it('real pip installs ansible-core, netaddr and Jinja2 from the bundle the mirror serves', async () => {
    const bundle = tempDir('bundle');
    layOut(out, bundle);
    const mirror = await startMirror({ bundleDir: bundle, mounts: BUNDLE_MOUNTS, port: 0 });
    try {
      const venv = join(tempDir('venv'), 'v');
      execFileSync('/usr/bin/python3', ['-m', 'venv', venv], { env: isolatedPipEnv() });
      const conf = join(tempDir('conf'), 'pip.conf');
      writeFileSync(conf, pipConf({ mirrorUrl: mirror.url }));
      // Asynchronously: the mirror answers from this very process.
      const { stdout } = await promisify(execFile)(join(venv, 'bin', 'python'), ['-m', 'pip', 'install', ...REQS], { env: { ...isolatedPipEnv(), PIP_CONFIG_FILE: conf } });
      expect(stdout).toContain(`Looking in indexes: ${mirror.url}/pypi/simple/\n`);
      const version = execFileSync(join(venv, 'bin', 'ansible'), ['--version'], { encoding: 'utf8', env: { PATH: `${venv}/bin:/usr/bin:/bin` } });
      expect(version).toMatch(/^ansible \[core 2\.14\.\d+\]/);
      expect(mirror.misses).toEqual([]);
    } finally {
      await mirror.close();
    }
  }, 240_000);

  it('with --locked plans from the lock alone (no request) and finds everything in the cache', async () => {
    const before = wheels.log().length + gone.log().length;
    const locked = await planPip({ ...ctx({ store }), locked: out.lock });
    expect(wheels.log().length + gone.log().length).toBe(before);
    expect(locked.kinds.wheels).toEqual({ ...plan.kinds.wheels, cachedBytes: plan.kinds.wheels!.bytes });
    expect(locked.generatedBytes).toBe(plan.generatedBytes);
  });

  it('with --locked fetches a wheel whose locked source is gone from the alternate, and the new lock says so', async () => {
    const stale = out.lock.map((l) => ({ ...l, source: l.source.replace(wheels.url, gone.url) }));
    const again = await collectPip({ ...ctx({ store: join(tempDir('store'), 'store') }), locked: stale });
    expect(again.lock).toEqual(out.lock);
    expect(gone.log().filter((l) => l.path.endsWith('.whl')).map((l) => l.status)).toEqual(out.lock.map(() => 404));
  }, 60_000);

  it('plans the same from a server that answers no ranges (python http.server), downloading only there', async () => {
    const plain = await serveStatic(fixture);
    try {
      const c = context(`${plain.url}/simple/`, REQS);
      const p = await planPip(c);
      expect(p.kinds.wheels).toEqual({ ...plan.kinds.wheels, cachedBytes: expect.any(Number) });
      expect(p.generatedBytes).toBe(plan.generatedBytes);
    } finally {
      await plain.close();
    }
  }, 120_000);

  it('lists what no index has: every requirement without alternates, a pinned version nobody carries', async () => {
    const none = await planPip(ctx({ alternates: false }));
    const goneTried = { source: `${gone.url}/simple/`, error: 'not-found', message: expect.stringContaining('404') };
    expect(none.unavailable).toEqual(REQS.map((name) => ({ kind: 'wheels', name, tried: [goneTried] })));
    const err = await collectPip(ctx({ alternates: false })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as UnavailableError).exitCode).toBe(1);
    const pinned = await planPip(ctx({ requirements: ['Jinja2==9.9', 'netaddr'] }));
    expect(pinned.unavailable).toEqual([
      { kind: 'wheels', name: 'Jinja2==9.9', tried: [goneTried, { source: `${wheels.url}/simple/jinja2/`, error: 'not-found', message: expect.stringContaining('it has 3.1.2') }] },
    ]);
  }, 60_000);
});
