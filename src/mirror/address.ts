import { isIPv6 } from 'node:net';

/**
 * The host a program on this machine reaches a server at, given the address the server listens on: the wildcard
 * addresses (`0.0.0.0`, `::`) are reached through loopback, any other address as itself (a server listening on
 * 10.0.0.5 alone does not answer on 127.0.0.1). IPv6 comes in brackets, ready for a URL. Pure.
 */
export function localHost(listen: string): string {
  const host = listen.replace(/^\[(.*)\]$/, '$1');
  if (host === '' || host === '0.0.0.0') return '127.0.0.1';
  if (host === '::' || host === '::0') return '[::1]';
  return isIPv6(host) ? `[${host}]` : host;
}

/** `http://<localHost(listen)>:<port>`. Pure. */
export function localUrl(listen: string, port: number): string {
  return `http://${localHost(listen)}:${port}`;
}
