/**
 * Servers under the names users meet (registry-1.docker.io, quay.io, …), on this machine: each name gets a loopback
 * address of its own and a certificate from a private CA, and a client runs in a private mount namespace whose
 * /etc/hosts sends those names there (TESTBED.md, "Real names over TLS"). The host's /etc/hosts is never touched,
 * and every address is on loopback.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeCa, makeServerCert } from './tls-certs.js';

export interface RealNames {
  /** PEM of the CA that signed the servers' certificate. */
  ca: string;
  /** The servers' certificate and key (every name and address is in it). */
  cert: string;
  key: string;
  /** A folder holding the CA as `ca.crt`: skopeo's `--cert-dir`. */
  certDir: string;
  /** The hosts file the namespace sees as /etc/hosts. */
  hosts: string;
  /**
   * The namespace's /etc/resolv.conf: a name server on this run's loopback addresses where nothing listens, so a
   * name not in `hosts` fails to resolve (a DNS failure, as users meet one) without a query leaving the machine.
   */
  resolvConf: string;
  /** The loopback address `name` resolves to in the namespace. */
  ip(name: string): string;
  /** Prefix a command with this to run it in the namespace (see `runCli`'s `wrap`). */
  wrap: string[];
}

export function realNames(dir: string, names: string[]): RealNames {
  mkdirSync(dir, { recursive: true });
  // A /24 of loopback of this run's own, so that tests running side by side do not meet on port 443.
  const net = `127.${16 + Math.floor(Math.random() * 230)}.${Math.floor(Math.random() * 250)}`;
  const ips = new Map(names.map((n, i) => [n, `${net}.${i + 1}`]));
  const ca = makeCa(dir, 'names-ca');
  const server = makeServerCert(dir, ca, [...names, ...ips.values()]);
  const certDir = join(dir, 'cert-dir');
  mkdirSync(certDir, { recursive: true });
  copyFileSync(ca.cert, join(certDir, 'ca.crt'));
  const hosts = join(dir, 'hosts');
  writeFileSync(hosts, ['127.0.0.1 localhost', '::1 localhost', ...[...ips].map(([n, ip]) => `${ip} ${n}`), ''].join('\n'));
  const resolvConf = join(dir, 'resolv.conf');
  writeFileSync(resolvConf, `nameserver ${net}.254\noptions timeout:1 attempts:1\n`);
  return {
    ca: ca.cert,
    cert: server.cert,
    key: server.key,
    certDir,
    hosts,
    resolvConf,
    ip: (name) => {
      const ip = ips.get(name);
      if (!ip) throw new Error(`${name} is not one of the real names of this test`);
      return ip;
    },
    wrap: ['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount --bind "$0" /etc/hosts && mount --bind "$1" /etc/resolv.conf && shift && exec "$@"', hosts, resolvConf],
  };
}
