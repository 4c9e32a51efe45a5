import { describe, expect, it } from 'vitest';
import { parseBundleMeta, renderBundleMeta, type BundleMeta } from '../../../src/bundle/meta.js';
import { FORMAT_VERSION } from '../../../src/bundle/layout.js';

const SUMS = 'c'.repeat(64);

/** bundle.yaml as a build of the default manifest writes it (format 3). */
const SAMPLE = `apiVersion: ks-bundle/v1
kind: Bundle
formatVersion: 3
name: kubesphere
version: 3.4.1
manifest:
  file: kubesphere.yaml
  sha256: ${'a'.repeat(64)}
targets:
  - os: debian-12
    arch: amd64
    python: '3.11'
    codename: bookworm
counts:
  runtime: 1
  image: 120
bytes:
  runtime: 44000000
  image: 3000000000
installer:
  apt:
    - python3-venv
  pip:
    - ansible-core==2.14.18
  playbook: cluster.yml
aptRepos:
  debian-12: bookworm
registries:
  - docker.io
  - registry.k8s.io
kubespray:
  version: v2.24.3
  settings:
    kube_version: v1.26.15
    helm_enabled: true
kubesphere:
  version: v3.4.1
sha256sums: ${SUMS}
`;

const withLine = (from: string, to: string) => {
  expect(SAMPLE).toContain(from);
  return SAMPLE.replace(from, to);
};

describe('parseBundleMeta', () => {
  it('reads what a build writes', () => {
    const { meta, problems, formatVersion } = parseBundleMeta(SAMPLE);
    expect(problems).toEqual([]);
    expect(formatVersion).toBe(3);
    expect(meta).toMatchObject({
      name: 'kubesphere',
      version: '3.4.1',
      targets: [{ os: 'debian-12', arch: 'amd64', python: '3.11', codename: 'bookworm' }],
      installer: { apt: ['python3-venv'], pip: ['ansible-core==2.14.18'], playbook: 'cluster.yml' },
      aptRepos: { 'debian-12': 'bookworm' },
      registries: ['docker.io', 'registry.k8s.io'],
      kubespray: { version: 'v2.24.3', settings: { kube_version: 'v1.26.15', helm_enabled: true } },
      kubesphere: { version: 'v3.4.1' },
      sha256sums: SUMS,
    });
  });

  it('reads back what renderBundleMeta writes, including versions that look like numbers', () => {
    const meta: BundleMeta = { ...parseBundleMeta(SAMPLE).meta!, version: '1.10' };
    const text = renderBundleMeta(meta);
    expect(text).toMatch(/^version: '1\.10'$/m);
    expect(parseBundleMeta(text).meta).toEqual(meta);
  });

  it('this ks-bundle reads the format the sample is written in', () => {
    expect(FORMAT_VERSION).toBe(3);
  });

  it("reads a delta bundle's base, and refuses a base name that is not a path component", () => {
    const withBase = SAMPLE.replace(`sha256sums: ${SUMS}`, `base:\n  name: kubesphere\n  version: 3.4.0\n  sha256sums: ${'d'.repeat(64)}\nsha256sums: ${SUMS}`);
    expect(parseBundleMeta(withBase).meta?.base).toEqual({ name: 'kubesphere', version: '3.4.0', sha256sums: 'd'.repeat(64) });
    const { problems } = parseBundleMeta(withBase.replace('version: 3.4.0', 'version: ../x'));
    expect(problems).toEqual([expect.objectContaining({ path: 'base.version', message: expect.stringMatching(/it becomes a folder or file name/) })]);
  });

  it('refuses a version that would make the unpack folder escape, naming the line', () => {
    const { meta, problems } = parseBundleMeta(withLine('version: 3.4.1', 'version: /../../../x'), 'b.tar:bundle.yaml');
    expect(meta).toBeUndefined();
    expect(problems).toEqual([expect.objectContaining({ file: 'b.tar:bundle.yaml', line: 5, path: 'version', message: expect.stringMatching(/"\/\.\.\/\.\.\/\.\.\/x" contains "\/": it becomes a folder or file name/) })]);
  });

  it('refuses a bundle without a name or a version', () => {
    const { problems } = parseBundleMeta(withLine('name: kubesphere\nversion: 3.4.1\n', ''));
    expect(problems.map((p) => p.message)).toEqual(['missing required key "name"', 'missing required key "version"']);
  });

  it('refuses an unquoted version that YAML read as a number', () => {
    const { problems } = parseBundleMeta(withLine('version: 3.4.1', 'version: 1.10'));
    expect(problems).toEqual([expect.objectContaining({ line: 5, path: 'version', message: 'expected a string, got number 1.1' })]);
  });

  it.each([
    ['registries', '  - registry.k8s.io', '  - ../../etc', 'registries[1]'],
    ['an apt os', '  debian-12: bookworm', '  ../x: bookworm', 'aptRepos.../x'],
    ['a suite', '  debian-12: bookworm', '  debian-12: a/b', 'aptRepos.debian-12'],
    ['a target arch', '    arch: amd64', '    arch: ..', 'targets[0].arch'],
  ])('refuses a bundle-supplied name that is not a path component: %s', (_what, from, to, path) => {
    const { problems } = parseBundleMeta(withLine(from, to));
    expect(problems).toEqual([expect.objectContaining({ path, message: expect.stringMatching(/it becomes a folder or file name/) })]);
  });

  it('refuses a playbook outside the playbooks folder', () => {
    const { problems } = parseBundleMeta(withLine('playbook: cluster.yml', 'playbook: ../../../root/x.yml'));
    expect(problems).toEqual([expect.objectContaining({ line: 25, path: 'installer.playbook', message: expect.stringMatching(/has a segment that is "\.\."/) })]);
  });

  it('reports another format version alone, with both numbers', () => {
    const { meta, problems, formatVersion } = parseBundleMeta(withLine('formatVersion: 3', 'formatVersion: 1'));
    expect(meta).toBeUndefined();
    expect(formatVersion).toBe(1);
    expect(problems).toEqual([expect.objectContaining({ line: 3, path: 'formatVersion', message: 'format version 1; this ks-bundle reads format version 3' })]);
  });

  it('lists every problem at once, with unknown keys and wrong types', () => {
    const text = withLine('kind: Bundle', 'kind: Bundel\nextra: 1').replace('sha256sums: ' + SUMS, 'sha256sums: nope').replace('  image: 120', '  image: -1');
    const { problems } = parseBundleMeta(text);
    expect(problems.map((p) => `${p.line}:${p.path}`)).toEqual(['3:extra', '2:kind', '17:counts.image', '39:sha256sums']);
  });

  it('refuses YAML that is not a mapping, an alias bomb, or too deep, without quoting the source', () => {
    expect(parseBundleMeta('- a\n- b\n').problems[0]!.message).toBe('expected a mapping');
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...'bcde'.split('').map((k, i) => `${k}: &${k} [${Array(10).fill('*' + 'abcdefg'[i]).join(', ')}]`)].join('\n');
    const refused = parseBundleMeta(bomb).problems[0]!;
    expect(refused.message).toMatch(/more than \d+ values/);
    const secret = 'name: [unclosed, hunter2-secret';
    const syntax = parseBundleMeta(secret).problems[0]!;
    expect(syntax.message).toMatch(/^not valid YAML/);
    expect(syntax.message).not.toContain('hunter2');
  });
});
