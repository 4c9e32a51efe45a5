/**
 * The distribution API's error body, parsed on what docker-registry really sends (captured with curl, see
 * test/fixtures/registry-errors/README.md), and on bodies a proxy or a hostile registry could send instead.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeRegistryErrors, parseRegistryErrors, reasonOfRegistryErrors } from '../../../src/images/registry-errors.js';

const sample = (name: string) => readFileSync(join(import.meta.dirname, '../../fixtures/registry-errors', name));

describe('parseRegistryErrors on docker-registry 2.8 answers', () => {
  it('a tag that does not exist: MANIFEST_UNKNOWN, not found', () => {
    const items = parseRegistryErrors(sample('manifest-unknown.json'));
    expect(items).toEqual([{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }]);
    expect(reasonOfRegistryErrors(items)).toBe('not-found');
    expect(describeRegistryErrors(items)).toBe('MANIFEST_UNKNOWN: manifest unknown');
  });

  it('a repository that does not exist: NAME_UNKNOWN, not found', () => {
    const items = parseRegistryErrors(sample('name-unknown.json'));
    expect(items).toEqual([{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry' }]);
    expect(reasonOfRegistryErrors(items)).toBe('not-found');
  });

  it('a blob that does not exist: BLOB_UNKNOWN, not found', () => {
    expect(reasonOfRegistryErrors(parseRegistryErrors(sample('blob-unknown.json')))).toBe('not-found');
  });

  it('htpasswd without credentials: UNAUTHORIZED, unauthorized', () => {
    const items = parseRegistryErrors(sample('unauthorized.json'));
    expect(describeRegistryErrors(items)).toBe('UNAUTHORIZED: authentication required');
    expect(reasonOfRegistryErrors(items)).toBe('unauthorized');
  });
});

describe('parseRegistryErrors on what is not a registry error', () => {
  it('an HTML page from a proxy, an empty body, JSON of another shape: nothing', () => {
    expect(parseRegistryErrors('<html><body>502 Bad Gateway</body></html>')).toEqual([]);
    expect(parseRegistryErrors('')).toEqual([]);
    expect(parseRegistryErrors('{"details":"bad credentials"}')).toEqual([]);
    expect(parseRegistryErrors('{"errors":"nope"}')).toEqual([]);
    expect(parseRegistryErrors('null')).toEqual([]);
    expect(reasonOfRegistryErrors([])).toBeUndefined();
  });

  it('GitHub-style DENIED is unauthorized; Harbor-style NOT_FOUND is not found; an unknown code says nothing', () => {
    expect(reasonOfRegistryErrors(parseRegistryErrors('{"errors":[{"code":"DENIED","message":"denied"}]}'))).toBe('unauthorized');
    expect(reasonOfRegistryErrors(parseRegistryErrors('{"errors":[{"code":"NOT_FOUND","message":"artifact not found"}]}'))).toBe('not-found');
    expect(reasonOfRegistryErrors(parseRegistryErrors('{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}'))).toBeUndefined();
  });

  it('control characters are shown escaped, long text cut, and at most four items kept', () => {
    const hostile = JSON.stringify({ errors: [{ code: 'NAME_UNKNOWN', message: '\u001b]0;pwned\u0007' + 'x'.repeat(500) }, ...Array(10).fill({ code: 'DENIED' }), { message: 'no code' }] });
    const items = parseRegistryErrors(hostile);
    expect(items).toHaveLength(4);
    expect(items[0]!.message).not.toMatch(/[\u0000-\u001f]/);
    expect(items[0]!.message.startsWith('\\x1b]0;pwned\\x07')).toBe(true);
    expect(items[0]!.message.length).toBeLessThanOrEqual(201);
  });
});
