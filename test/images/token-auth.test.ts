/**
 * The bearer-token flow against the real registry: docker-registry with `auth.token`, trusting a certificate made
 * here with openssl; the token issuer is written in the test (support.ts) and wants Basic credentials.
 * Credentials for the build come from the environment (KS_BUNDLE_REGISTRY_AUTH_<HOST>), for push from a file.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { collectImages } from '../../src/images/collect.js';
import { envName } from '../../src/images/credentials.js';
import { pushBundleImages } from '../../src/images/push.js';
import { requireTools } from '../support/tools.js';
import { buildFixtureImages, pushFixture } from '../fixtures/images/build.js';
import { dockerConfig, imagesContext, layOut, sha256Hex, startRegistry, startTokenIssuer, upstreamDigest, type Registry, type TokenIssuer } from './support.js';
import { testHttp } from '../support/http.js';
import { testContext, testManifest } from '../support/context.js';
import type { ProgressEvent } from '../../src/progress/events.js';

let tmp: string;
let issuer: TokenIssuer;
let registry: Registry;
const CREDS = 'robot:t0ken-secret';

beforeAll(async () => {
  requireTools('docker-registry', 'skopeo', 'umoci', 'openssl');
  tmp = mkdtempSync(join(tmpdir(), 'ksb-token-'));
  issuer = await startTokenIssuer(join(tmp, 'issuer'), { issuer: 'ks-test-issuer', service: 'ks-test-registry', user: 'robot', pass: 't0ken-secret' });
  registry = await startRegistry(join(tmp, 'registry'), {
    token: { realm: issuer.url, service: 'ks-test-registry', issuer: 'ks-test-issuer', rootcertbundle: issuer.certFile },
  });
  const layout = buildFixtureImages(join(tmp, 'fixture'));
  await pushFixture(layout, 'app', `${registry.host}/team/app:2.0`, CREDS);
  await pushFixture(layout, 'multi', `${registry.host}/team/multi:2.0`, CREDS);
}, 120_000);

afterAll(async () => {
  await registry?.stop();
  await issuer?.close();
  delete process.env[envName(registry?.host ?? '')];
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

it('the registry really wants a token', async () => {
  const res = await fetch(`http://${registry.host}/v2/team/app/manifests/2.0`);
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm=/);
});

it('pulls through the bearer flow with credentials from the environment', async () => {
  process.env[envName(registry.host)] = CREDS;
  const before = issuer.requests.length;
  const ctx = imagesContext({
    cache: join(tmp, 'cache'),
    workDir: join(tmp, 'work'),
    images: [`${registry.host}/team/app:2.0`, `${registry.host}/team/multi:2.0`],
    registries: { [registry.host]: { insecure: true } },
  });
  const out = await collectImages(ctx);
  const asked = issuer.requests.slice(before);
  expect(asked.length).toBeGreaterThan(0);
  expect(asked.every((r) => r.user === 'robot')).toBe(true);
  expect(asked.flatMap((r) => r.scope)).toContain('repository:team/app:pull');
  const app = out.lock.find((e) => e.name === `${registry.host}/team/app:2.0`)!;
  expect(app.extra!.digest).toBe(await upstreamDigest(`${registry.host}/team/app:2.0`, CREDS));
  for (const e of out.entries.filter((x) => x.file)) expect(sha256Hex(readFileSync(e.file!))).toBe(e.sha256);
  expect(JSON.stringify(out)).not.toContain('t0ken-secret');

  // And push back into the same token-protected registry under a prefix, credentials from a config file.
  const bundleDir = join(tmp, 'bundle');
  layOut(out, bundleDir);
  delete process.env[envName(registry.host)];
  const authFile = dockerConfig(join(tmp, 'auth.json'), registry.host, 'robot', 't0ken-secret');
  const summary = await pushBundleImages(bundleDir, { registry: `${registry.host}/copy`, authFile, insecure: true, http: testHttp() });
  expect(summary.images).toBe(2);
  expect(issuer.requests.some((r) => r.scope.includes('repository:copy/team/app:pull,push'))).toBe(true);
  expect(await upstreamDigest(`${registry.host}/copy/team/multi:2.0`, CREDS)).toBe(await upstreamDigest(`${registry.host}/team/multi:2.0`, CREDS));
}, 60_000);

it('wrong credentials: the error names the registry and hides the secret', async () => {
  process.env[envName(registry.host)] = 'robot:wrong-secret';
  const ctx = imagesContext({ cache: join(tmp, 'cache2'), workDir: join(tmp, 'w2'), images: [`${registry.host}/team/app:2.0`], registries: { [registry.host]: { insecure: true } } });
  const err = await collectImages(ctx).then(() => undefined, (e) => e);
  delete process.env[envName(registry.host)];
  expect(err?.message).toMatch(new RegExp(`registry ${registry.host.replace(/\./g, '\\.')}`));
  expect(err.message).toMatch(/refused repository:team\/app:pull \(HTTP 401\): the credentials for registry \S+ were rejected/);
  expect(err.unavailable[0].tried[0].error).toBe('unauthorized');
  expect(`${err.message} ${err.hint} ${err.stack}`).not.toContain('wrong-secret');
});

it('a token service that refuses anonymous pulls is unauthorized, and the next source serves the image', async () => {
  delete process.env[envName(registry.host)];
  const copy = await startRegistry(join(tmp, 'copy'));
  try {
    await pushFixture(buildFixtureImages(join(tmp, 'fixture-copy')), 'app', `${copy.host}/mirror/team/app:2.0`);
    const before = issuer.requests.length;
    const events: ProgressEvent[] = [];
    const manifest = testManifest({
      images: [`${registry.host}/team/app:2.0`],
      registries: { [registry.host]: { insecure: true }, [copy.host]: { insecure: true } },
      alternates: [{ prefix: `${registry.host}/team/`, to: [`${copy.host}/mirror/team/`] }],
    });
    const out = await collectImages(testContext(manifest, { store: join(tmp, 'cache-alt'), workDir: join(tmp, 'w-alt'), onProgress: (e) => events.push(e) }));
    // The token service was asked without credentials, and refused.
    expect(issuer.requests.slice(before).map((r) => r.user)).toContain(undefined);
    const image = out.lock.find((e) => e.kind === 'image')!;
    expect(image).toMatchObject({ name: `${registry.host}/team/app:2.0`, source: `${copy.host}/mirror/team/app:2.0` });
    expect(image.extra!.digest).toBe(await upstreamDigest(`${copy.host}/mirror/team/app:2.0`));
    const said = events.flatMap((e) => (e.type === 'log' ? [e.message] : []));
    expect(said).toContain(`image ${registry.host}/team/app:2.0 comes from ${copy.host}/mirror/team/app:2.0 (${registry.host}/team/app:2.0: unauthorized)`);
  } finally {
    await copy.stop();
  }
}, 60_000);
