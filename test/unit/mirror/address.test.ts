import { describe, expect, it } from 'vitest';
import { localHost, localUrl } from '../../../src/mirror/address.js';

describe('localUrl: how this machine reaches a server by the address it listens on', () => {
  it.each([
    ['0.0.0.0', 'http://127.0.0.1:5080'],
    ['', 'http://127.0.0.1:5080'],
    ['::', 'http://[::1]:5080'],
    ['[::]', 'http://[::1]:5080'],
    ['10.0.0.5', 'http://10.0.0.5:5080'],
    ['127.0.0.2', 'http://127.0.0.2:5080'],
    ['fd00::5', 'http://[fd00::5]:5080'],
    ['[fd00::5]', 'http://[fd00::5]:5080'],
    ['taskbox.lan', 'http://taskbox.lan:5080'],
  ])('%s → %s', (listen, url) => {
    expect(localUrl(listen, 5080)).toBe(url);
  });

  it('gives the host alone for a URL built elsewhere', () => {
    expect(localHost('10.0.0.5')).toBe('10.0.0.5');
    expect(localHost('0.0.0.0')).toBe('127.0.0.1');
  });
});
