import { describe, expect, it } from 'vitest';
import { redactUrl, redactUrlsIn, withCredentialsOf } from '../../src/errors.js';

describe('redactUrl', () => {
  it.each([
    ['https://alice:s3cret@files.example/x.bin', 'https://***@files.example/x.bin'],
    ['https://files.example/x.bin?token=s3cret&arch=amd64', 'https://files.example/x.bin?token=***&arch=amd64'],
    ['https://files.example/x?access_token=s3cret', 'https://files.example/x?access_token=***'],
    [
      'https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA%2F20240101&X-Amz-Signature=abcdef&X-Amz-Security-Token=tok',
      'https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=***&X-Amz-Signature=***&X-Amz-Security-Token=***',
    ],
    ['https://acct.blob.core.windows.net/c/f?sv=2022-11-02&se=2030-01-01&sig=abc%2Bdef', 'https://acct.blob.core.windows.net/c/f?sv=2022-11-02&se=2030-01-01&sig=***'],
    ['https://storage.googleapis.com/b/o?X-Goog-Signature=abc', 'https://storage.googleapis.com/b/o?X-Goog-Signature=***'],
    ['https://pypi.example/simple/?api_key=k', 'https://pypi.example/simple/?api_key=***'],
  ])('%s', (input, expected) => {
    expect(redactUrl(input)).toBe(expected);
    expect(redactUrl(input)).not.toMatch(/s3cret|abcdef|abc%2Bdef|AKIA/);
  });

  it('leaves an ordinary URL exactly as written', () => {
    for (const u of ['http://127.0.0.1:8080/a%20b.bin?version=1.10&arch=amd64', 'https://dl.k8s.io/release/v1.26.15/bin/linux/amd64/kubeadm']) expect(redactUrl(u)).toBe(u);
  });

  it('redacts what it cannot parse as a URL by pattern', () => {
    expect(redactUrl('//bob:pw@host/x?token=t')).toBe('//***@host/x?token=***');
  });
});

describe('redactUrlsIn', () => {
  it('redacts every URL inside a free text and nothing else', () => {
    expect(redactUrlsIn('GET https://u:p@h:8/a?sig=x failed; see http://h/b')).toBe('GET https://***@h:8/a?sig=*** failed; see http://h/b');
  });
});

describe('withCredentialsOf', () => {
  const given = ['https://alice:s3cret@mirror.example/debian/', 'https://pypi.example/simple/?token=t0k'];
  it('gives a redacted URL on the same origin its secrets back', () => {
    expect(withCredentialsOf('https://***@mirror.example/debian/pool/main/s/socat.deb', given)).toBe('https://alice:s3cret@mirror.example/debian/pool/main/s/socat.deb');
    expect(withCredentialsOf('https://pypi.example/files/x.whl?token=***', given)).toBe('https://pypi.example/files/x.whl?token=t0k');
  });
  it('leaves a URL on another origin alone', () => {
    expect(withCredentialsOf('https://***@other.example/x', given)).toBe('https://***@other.example/x');
  });
  it('round-trips: redact then restore gives the URL back', () => {
    const u = 'https://alice:s3cret@mirror.example/debian/pool/x.deb';
    expect(withCredentialsOf(redactUrl(u), [u])).toBe(u);
  });
});
