import { describe, expect, it } from 'vitest';
import { UnavailableError } from '../../../src/collector/run.js';

describe('UnavailableError', () => {
  it('lists each artifact with every source tried, once each, and exits 1', () => {
    const err = new UnavailableError([
      {
        kind: 'wheels',
        name: 'netaddr',
        tried: [
          { source: 'https://pypi.org/simple/', error: 'network', message: 'https://pypi.org/simple/: cannot reach pypi.org:443: DNS could not resolve the name (ENOTFOUND)' },
          { source: 'https://mirror.example/simple/', error: 'not-found', message: 'HTTP 404 Not Found' },
        ],
      },
    ]);
    expect(err.message.split('\n')).toEqual([
      '1 artifact could not be fetched from any source:',
      'wheels netaddr:',
      '  https://pypi.org/simple/: network: cannot reach pypi.org:443: DNS could not resolve the name (ENOTFOUND)',
      '  https://mirror.example/simple/: not-found: HTTP 404 Not Found',
    ]);
    expect(err.exitCode).toBe(1);
    expect(err.hint).toContain('spec.alternates');
    expect(err.hint).toContain('HTTPS_PROXY');
  });

  it('is an integrity failure (exit 3) when every source served other content', () => {
    const err = new UnavailableError([{ kind: 'files', name: 'kubeadm', tried: [{ source: 'https://dl.k8s.io/kubeadm', error: 'digest-mismatch', message: 'sha256 aaa, pinned bbb' }] }]);
    expect(err.exitCode).toBe(3);
    expect(err.reason).toBe('digest-mismatch');
  });
});
