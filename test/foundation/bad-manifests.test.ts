import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

const SHA = 'a'.repeat(64);
const HEAD = 'apiVersion: ks-bundle/v1\nkind: BundleManifest\nmetadata: {name: bad, version: 0.1.0}\n';

/** Each case: a manifest, and the `line:column` plus words each reported problem must carry. */
const CASES: Array<{ name: string; yaml: string; expect: Array<[string, RegExp]> }> = [
  { name: 'typo in a spec key', yaml: HEAD + 'spec:\n  targets: [{os: debian-12, arch: amd64}]\n  imgaes: [busybox]\n', expect: [['6:3', /unknown key "imgaes"; did you mean "images"/]] },
  { name: 'unknown os', yaml: HEAD + 'spec:\n  targets:\n    - {os: debian-99, arch: amd64}\n', expect: [['6:8', /spec\.targets\[0\]\.os: "debian-99" is not one of/]] },
  { name: 'bad arch and python', yaml: HEAD + 'spec:\n  targets:\n    - os: ubuntu-22.04\n      arch: x86\n      python: three\n', expect: [['7:7', /arch: "x86" is not one of amd64, arm64/], ['8:7', /python: "three" is not a Python version/]] },
  { name: 'missing targets', yaml: HEAD + 'spec:\n  images: [busybox]\n', expect: [['4:1', /missing required key "targets"/]] },
  { name: 'short sha256', yaml: HEAD + 'spec:\n  targets: [{os: debian-12, arch: amd64}]\n  files:\n    - url: https://example.invalid/kubeadm\n      sha256: abc\n', expect: [['8:7', /sha256: "abc" is not a 64-digit lowercase hex sha256/]] },
  { name: 'file without url', yaml: HEAD + 'spec:\n  targets: [{os: debian-12, arch: amd64}]\n  files:\n    - sha256: ' + SHA + '\n', expect: [['7:7', /missing required key "url"/]] },
  { name: 'not a URL', yaml: HEAD + 'spec:\n  targets: [{os: debian-12, arch: amd64}]\n  manifests:\n    - {url: "ftp://x/y.yaml", sha256: ' + SHA + '}\n', expect: [['7:8', /url: "ftp:\/\/x\/y.yaml" is not an http\(s\) URL/]] },
  { name: 'apt source without keyring', yaml: HEAD + 'spec:\n  targets: [{os: debian-12, arch: amd64}]\n  apt:\n    sources:\n      - {url: "http://deb.example/debian", suites: [bookworm], components: [main]}\n    packages: [socat]\n', expect: [['8:9', /needs a "keyring"/]] },
  { name: 'apt source by unknown name', yaml: HEAD + 'spec:\n  targets: [{os: debian-12, arch: amd64}]\n  apt:\n    sources: [nosuchrepo]\n    packages: [socat]\n', expect: [['7:15', /no apt upstream named "nosuchrepo"/]] },
  { name: 'playbooks with url and path', yaml: HEAD + 'spec:\n  targets: [{os: debian-12, arch: amd64}]\n  playbooks: {url: "https://x.invalid/a.tar.gz", path: ./pb, entry: site.yml}\n', expect: [['6:3', /exactly one of "url".*or "path"/]] },
  { name: 'wrong kind and apiVersion', yaml: 'apiVersion: v2\nkind: Bundle\nmetadata: {name: x, version: 1}\nspec:\n  targets: [{os: debian-12, arch: amd64}]\n', expect: [['1:1', /apiVersion: "v2" is not one of ks-bundle\/v1/], ['2:1', /kind: "Bundle" is not one of BundleManifest/]] },
  { name: 'bad name and duplicate target', yaml: 'apiVersion: ks-bundle/v1\nkind: BundleManifest\nmetadata: {name: "Bad Name", version: 1.0}\nspec:\n  targets: [{os: debian-12, arch: amd64}, {os: debian-12, arch: amd64}]\n', expect: [['3:12', /metadata\.name: "Bad Name" is not a lowercase name/], ['5:43', /target debian-12\/amd64 is listed twice/]] },
  { name: 'YAML syntax error', yaml: HEAD + 'spec:\n  targets: [{os: debian-12, arch: amd64}\n  images: [x]\n', expect: [['', /YAML syntax/]] },
  { name: 'list where a mapping belongs', yaml: HEAD + 'spec:\n  targets: [{os: debian-12, arch: amd64}]\n  pip: [ansible]\n', expect: [['6:3', /spec\.pip: expected a mapping, got a list/]] },
];

describe('bad manifests', () => {
  it.each(CASES)('$name: exit 2, every problem with file:line:column, no stack trace', async ({ yaml, expect: wanted }) => {
    const dir = await mkdtemp(join(tmpdir(), 'ksb-bad-'));
    const file = join(dir, 'manifest.yaml');
    await writeFile(file, yaml);
    const r = await runCli(['build', '-m', file, '--cache', join(dir, 'cache'), '-o', join(dir, 'out.tar')]);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);
    for (const [where, words] of wanted) {
      const line = r.stderr.split('\n').find((l) => words.test(l));
      expect(line, `stderr:\n${r.stderr}`).toBeDefined();
      expect(line).toContain(`${file}:${where}`);
    }
  });

  it('reports all problems of a file in one run', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ksb-bad-'));
    const file = join(dir, 'manifest.yaml');
    await writeFile(file, HEAD + 'spec:\n  targets: [{os: debian-99, arch: amd64}]\n  imgaes: []\n  files: [{url: x, sha256: y}]\n');
    const r = await runCli(['build', '-m', file, '--cache', join(dir, 'cache')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/4 problems/);
  });
});
