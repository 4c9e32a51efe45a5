import { describe, expect, it } from 'vitest';
import { artifactNameClashes, artifactNameProblem } from '../../../src/manifest/artifact-names.js';

describe('artifactNameProblem', () => {
  it.each(['kubeadm', 'crictl-v1.26.0-linux-amd64.tar.gz', 'cni/cni-plugins-linux-amd64-v1.2.0.tgz', 'a_b+c'])('accepts %s', (n) => {
    expect(artifactNameProblem(n)).toBeUndefined();
  });
  it.each([
    ['', /empty/],
    ['../etc/passwd', /segment that is "\.\."/],
    ['a/./b', /segment that is "\."/],
    ['/abs', /absolute path/],
    ['a//b', /segment that is empty/],
    ['dir/', /segment that is empty/],
    ['-rf', /starts with "-"/],
    ['.hidden', /starts with "\."/],
    ['x\u001b[31m', /control character/],
    ['a b', /not made of letters/],
    ['a\\b', /contains "\\"/],
  ])('refuses %j', (n, why) => {
    expect(artifactNameProblem(n)).toMatch(why);
  });
});

describe('artifactNameClashes', () => {
  it('finds a name that is the folder of another, however the list sorts', () => {
    // "a-b" sorts between "a" and "a/b": the check must not rely on neighbours.
    expect(artifactNameClashes(['a', 'a-b', 'a/b', 'a/b/c'])).toEqual([
      [0, 2],
      [0, 3],
      [2, 3],
    ]);
  });
  it('finds the same name twice, and nothing in names that only share a prefix', () => {
    expect(artifactNameClashes(['x', 'y', 'x'])).toEqual([[0, 2]]);
    expect(artifactNameClashes(['a.b', 'ab', 'a/x'])).toEqual([]);
  });
});
