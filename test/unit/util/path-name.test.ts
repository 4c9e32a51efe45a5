import { describe, expect, it } from 'vitest';
import { pathComponentProblem, relativePathProblem, quoteName, MAX_NAME_BYTES } from '../../../src/util/path-name.js';

describe('pathComponentProblem', () => {
  it.each(['kubesphere', '1.0.0', 'v3.4.1+build.7', 'debian-12', 'registry.k8s.io', '127.0.0.1:5000', 'ümlaut', 'a'.repeat(MAX_NAME_BYTES)])('accepts %j', (name) => {
    expect(pathComponentProblem(name)).toBeUndefined();
  });

  it.each([
    ['', 'is empty'],
    ['.', 'is "."'],
    ['..', 'is ".."'],
    ['/../../../x', 'contains "/"'],
    ['a/b', 'contains "/"'],
    ['..\\x', 'contains "\\"'],
    ['a\0b', 'contains a control character'],
    ['a\nb', 'contains a control character'],
    ['\u001b[31mred', 'contains a control character'],
    ['a\u009bb', 'contains a control character'],
    ['-rf', 'starts with "-"'],
    ['a'.repeat(MAX_NAME_BYTES + 1), `is longer than ${MAX_NAME_BYTES} bytes`],
    ['é'.repeat(MAX_NAME_BYTES / 2 + 1), `is longer than ${MAX_NAME_BYTES} bytes`],
  ])('refuses %j: %s', (name, why) => {
    expect(pathComponentProblem(name)).toBe(why);
  });
});

describe('relativePathProblem', () => {
  it('accepts a path of good segments', () => {
    expect(relativePathProblem('cluster.yml')).toBeUndefined();
    expect(relativePathProblem('roles/site.yml')).toBeUndefined();
  });
  it.each([
    ['/etc/passwd', 'is an absolute path'],
    ['roles/../../x', 'has a segment that is ".."'],
    ['a//b', 'has a segment that is empty'],
    ['a/', 'has a segment that is empty'],
    ['./a', 'has a segment that is "."'],
  ])('refuses %j', (path, why) => {
    expect(relativePathProblem(path)).toBe(why);
  });
});

describe('quoteName', () => {
  it('shows control characters as escapes instead of sending them to the terminal', () => {
    expect(quoteName('\u001b[2Jx')).toBe('"\\u001b[2Jx"');
  });
});
