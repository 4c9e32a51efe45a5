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
  {
    name: 'an upstream default that is not a URL, and a build-machine archive that does not exist',
    yaml: HEAD + 'spec:\n  targets: [{os: debian-12, arch: amd64}]\n  apt:\n    sources:\n      - {url: "${MY_MIRROR:-deb.example/debian}/", suites: [bookworm], components: [main], trusted: true}\n      - {use: debian-12, url: "${MY_MIRROR:-build-machine:ubuntu}/"}\n    packages: [socat]\n',
    expect: [['8:10', /sources\[0\]\.url: this source: the default "deb\.example\/debian" of \$\{MY_MIRROR\} is not an http\(s\) URL/], ['9:26', /apt source "debian-12": "build-machine:ubuntu" is not an archive of the build machine/]],
  },
  { name: 'a shared apt source with an unknown key', yaml: HEAD + 'spec:\n  targets: [{os: debian-12, arch: amd64}]\n  apt:\n    sources: [{use: debian-12, uri: "http://x/debian"}]\n    packages: [socat]\n', expect: [['7:32', /unknown key "uri"; did you mean "url"/]] },
  { name: 'playbooks with url and path', yaml: HEAD + 'spec:\n  targets: [{os: debian-12, arch: amd64}]\n  playbooks: {url: "https://x.invalid/a.tar.gz", path: ./pb, entry: site.yml}\n', expect: [['6:3', /exactly one of "url".*or "path"/]] },
  { name: 'wrong kind and apiVersion', yaml: 'apiVersion: v2\nkind: Bundle\nmetadata: {name: x, version: 1}\nspec:\n  targets: [{os: debian-12, arch: amd64}]\n', expect: [['1:1', /apiVersion: "v2" is not one of ks-bundle\/v1/], ['2:1', /kind: "Bundle" is not one of BundleManifest/]] },
  { name: 'bad name and duplicate target', yaml: 'apiVersion: ks-bundle/v1\nkind: BundleManifest\nmetadata: {name: "Bad Name", version: 1.0}\nspec:\n  targets: [{os: debian-12, arch: amd64}, {os: debian-12, arch: amd64}]\n', expect: [['3:12', /metadata\.name: "Bad Name" is not a lowercase name/], ['5:43', /target debian-12\/amd64 is listed twice/]] },
  { name: 'YAML syntax error', yaml: HEAD + 'spec:\n  targets: [{os: debian-12, arch: amd64}\n  images: [x]\n', expect: [['', /not valid YAML/]] },
  {
    name: 'unquoted versions that YAML reads as numbers',
    yaml: 'apiVersion: ks-bundle/v1\nkind: BundleManifest\nmetadata: {name: v, version: 1.10}\nspec:\n  targets:\n    - {os: debian-12, arch: amd64, python: 3.10}\n  runtime: {source: npm, version: 22}\n',
    expect: [
      ['3:21', /metadata\.version: 1\.10 is a number to YAML \(it reads 1\.1\).*quotes: version: "1\.10"/],
      ['6:36', /spec\.targets\[0\]\.python: 3\.10 is a number to YAML \(it reads 3\.1\).*python: "3\.10"/],
      ['7:26', /spec\.runtime\.version: 22 is a number to YAML/],
    ],
  },
  {
    name: 'artifact names that clash as paths, and one that is not a name',
    yaml:
      HEAD +
      'spec:\n  targets: [{os: debian-12, arch: amd64}]\n  files:\n' +
      `    - {url: "http://h.invalid/a", sha256: ${SHA}}\n` +
      `    - {url: "http://h.invalid/x", sha256: ${SHA}, name: a/b}\n` +
      `    - {url: "http://h.invalid/a", sha256: ${SHA}}\n` +
      `    - {url: "http://h.invalid/%1b%5b2Jgone", sha256: ${SHA}}\n`,
    expect: [
      ['8:109', /spec\.files\[1\]\.name: name "a\/b" would be inside "a", the file of spec\.files\[0\] \(line 7\)/],
      ['9:7', /spec\.files\[2\]: name "a" is already used by spec\.files\[0\] \(line 7\)/],
      ['10:7', /spec\.files\[3\]: the URL's file name "\\x1b\[2Jgone" has a segment that contains a control character/],
    ],
  },
  {
    name: 'pip.buildSdists, which is refused rather than half done',
    yaml: HEAD + 'spec:\n  targets: [{os: debian-12, arch: amd64}]\n  pip:\n    index: http://pypi.invalid/simple/\n    requirements: [netaddr]\n    buildSdists: true\n',
    expect: [['9:5', /spec\.pip\.buildSdists: building wheels from source distributions is not supported/]],
  },
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
    // Whatever the manifest holds, the terminal gets no control character but the newline.
    expect(r.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    for (const [where, words] of wanted) {
      const line = r.stderr.split('\n').find((l) => words.test(l));
      expect(line, `stderr:\n${r.stderr}`).toBeDefined();
      expect(line).toContain(`${file}:${where}`);
    }
  });

  it('refuses an alias bomb at once, with exit 2 and a short message', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ksb-bad-'));
    const file = join(dir, 'manifest.yaml');
    const levels = ['x0: &x0 [a, a, a, a, a, a, a, a, a]', ...Array.from({ length: 9 }, (_, i) => `x${i + 1}: &x${i + 1} [${Array(9).fill(`*x${i}`).join(', ')}]`)];
    await writeFile(file, HEAD + levels.join('\n') + '\nspec: {targets: [{os: debian-12, arch: amd64}], images: *x9}\n');
    const r = await runCli(['build', '-m', file, '--cache', join(dir, 'cache')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:1:1: expands to more than 200000 values (too many aliases?)`);
    expect(r.stderr.length).toBeLessThan(2000);
  });

  it('reports every bad image reference at its line in one run, and warns about two spellings of one image', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ksb-bad-'));
    const file = join(dir, 'manifest.yaml');
    const images = ['busybox', 'Bad/Upper:1', 'docker.io/library/busybox', 'quay.io/x/y@sha256:123', 'index.docker.io/library/busybox:latest', 'ok/tag:-bad'];
    await writeFile(file, HEAD + 'spec:\n  targets: [{os: debian-12, arch: amd64}]\n  images:\n' + images.map((i) => `    - ${i}\n`).join(''));
    const r = await runCli(['build', '-m', file, '--cache', join(dir, 'cache')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/3 problems/);
    expect(r.stderr).toContain(`${file}:8:7: spec.images[1]: image reference "Bad/Upper:1": "Bad" is not a valid repository name component`);
    expect(r.stderr).toContain(`${file}:10:7: spec.images[3]: image reference "quay.io/x/y@sha256:123": the digest must be sha256:<64 lowercase hex>`);
    expect(r.stderr).toContain(`${file}:12:7: spec.images[5]: image reference "ok/tag:-bad": "-bad" is not a valid tag`);
    expect(r.stderr).toContain(`warning: ${file}:9:7: spec.images[2]: "docker.io/library/busybox" is the same image as "busybox" (spec.images[0], line 7), both docker.io/library/busybox:latest`);
    expect(r.stderr).toContain(`warning: ${file}:11:7: spec.images[4]: "index.docker.io/library/busybox:latest" is the same image as "busybox" (spec.images[0], line 7)`);
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
