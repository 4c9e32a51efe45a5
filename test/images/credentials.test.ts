import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { manifestHead } from '../support/manifest-head.js';

const TOKEN = 'eyJSECRET-REFRESH-TOKEN-31337';
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ksb-creds-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('registry credentials', () => {
  it('an identitytoken for a registry the build uses is refused with a hint, exit 2, and the token is never shown', async () => {
    // As `docker login` writes it for registries that hand out refresh tokens (ACR, for one): a dummy user, no password.
    const auth = join(dir, 'config.json');
    await writeFile(auth, JSON.stringify({ auths: { '127.0.0.1:9': { auth: Buffer.from('00000000-0000-0000-0000-000000000000:').toString('base64'), identitytoken: TOKEN } } }));
    const manifest = join(dir, 'm.yaml');
    await writeFile(
      manifest,
      manifestHead('idt') + '  registries: {"127.0.0.1:9": {insecure: true}}\n  images: [127.0.0.1:9/team/app:1.0]\n',
    );
    const r = await runCli(['build', '-m', manifest, '--cache', join(dir, 'cache'), '-o', join(dir, 'out.tar'), '--registry-auth', auth], { env: { DOCKER_CONFIG: join(dir, 'none') } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${auth}: auths."127.0.0.1:9" holds an identitytoken (an OAuth2 refresh token) for 127.0.0.1:9`);
    expect(r.stderr).toMatch(/hint: Give 127\.0\.0\.1:9 a user and password .*KS_BUNDLE_REGISTRY_AUTH_127_0_0_1_9=user:password/);
    expect(r.stdout + r.stderr).not.toContain(TOKEN);
  });
});
