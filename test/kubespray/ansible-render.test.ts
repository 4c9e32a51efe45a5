import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import yaml from 'js-yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { kubesprayDownloads, kubesprayVars } from '../../src/kubespray/downloads.js';
import { kubesprayMirrorVars } from '../../src/kubespray/mirror-vars.js';
import { BUNDLE_SETTINGS } from '../../src/kubespray/settings.js';
import { requireTools } from '../support/tools.js';

const run = promisify(execFile);

/**
 * The real consumer of the vars file is Ansible: render it with ansible-playbook (Jinja, `| lower`, nested templates,
 * variable precedence of -e files) against kubespray's variables for one arch, and compare with what the
 * completeness check computes from the same file.
 */
describe('the mirror vars file as Ansible renders it', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('gives the same download URLs as the check, for amd64 and arm64', async () => {
    requireTools('ansible-playbook');
    const dir = await mkdtemp(join(tmpdir(), 'ks-mirrorvars-'));
    dirs.push(dir);
    const { mirrorOwned } = kubesprayMirrorVars({ mirrorHost: '10.0.0.1', port: 5080, bundle: { targets: [{ os: 'debian-12' }] } });
    await writeFile(join(dir, 'mirror.yml'), yaml.dump({ ...BUNDLE_SETTINGS, ...mirrorOwned }));
    const overrides = Object.fromEntries(Object.entries(mirrorOwned).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
    const wanted = kubesprayDownloads(BUNDLE_SETTINGS, ['amd64', 'arm64'], overrides).files;
    const urlVars = [...new Set(wanted.map((w) => w.urlVar))];
    await writeFile(
      join(dir, 'play.yml'),
      yaml.dump([{ hosts: 'localhost', gather_facts: false, tasks: [{ copy: { content: `{{ {${urlVars.map((v) => `'${v}': ${v}`).join(', ')}} | to_json }}`, dest: '{{ out }}' } }] }]),
    );
    for (const arch of ['amd64', 'arm64']) {
      // kubespray's own variables (what its role defaults define), without the ones the vars file overrides.
      const base = Object.fromEntries(Object.entries(kubesprayVars(BUNDLE_SETTINGS, arch)).filter(([k]) => !(k in overrides)));
      await writeFile(join(dir, `kubespray-${arch}.json`), JSON.stringify(base));
      const out = join(dir, `out-${arch}.json`);
      const env = { ...process.env, ANSIBLE_LOCALHOST_WARNING: 'false', ANSIBLE_INVENTORY_UNPARSED_WARNING: 'false', ANSIBLE_NOCOLOR: '1' };
      await run('ansible-playbook', ['-i', 'localhost,', '-c', 'local', '-e', `@${join(dir, `kubespray-${arch}.json`)}`, '-e', `@${join(dir, 'mirror.yml')}`, '-e', `out=${out}`, join(dir, 'play.yml')], { env, cwd: dir });
      const msg = JSON.parse(await readFile(out, 'utf8')) as Record<string, string>;
      for (const w of wanted.filter((x) => x.arch === arch)) expect(msg[w.urlVar], `${w.urlVar} ${arch}`).toBe(w.url);
      expect(msg.kubeadm_download_url).toBe(`http://10.0.0.1:5080/files/dl.k8s.io/release/v1.26.15/bin/linux/${arch}/kubeadm`);
    }
  });
});
