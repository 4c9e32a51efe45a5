/** Real servers for the image tests: docker-registry (htpasswd or token auth), a token issuer, bundle layout. */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash, createPrivateKey, randomUUID, sign } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { createServer as netServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BuildContext } from '../../src/collector/context.js';
import type { LockEntry } from '../../src/lock/entry.js';
import type { Manifest } from '../../src/manifest/types.js';
import type { ProgressEvent } from '../../src/progress/events.js';
import { testContext, testManifest, testTarget } from '../support/context.js';

export { layOut } from '../support/lay-out.js';

export async function freePort(): Promise<number> {
  const s = netServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface Registry {
  port: number;
  host: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

export type RegistryAuthConfig =
  | { htpasswd: string }
  | { token: { realm: string; service: string; issuer: string; rootcertbundle: string } }
  | undefined;

/** docker-registry from Debian on loopback, filesystem storage under `dir`; HTTPS when given a certificate and key. */
export async function startRegistry(dir: string, auth?: RegistryAuthConfig, tls?: { certificate: string; key: string }, addr?: string, opts: { accessLog?: string } = {}): Promise<Registry> {
  mkdirSync(dir, { recursive: true });
  const port = addr ? Number(addr.split(':').pop()) : await freePort();
  const ip = addr ? addr.split(':')[0]! : '127.0.0.1';
  let authYaml = '';
  if (auth && 'htpasswd' in auth) authYaml = `auth:\n  htpasswd:\n    realm: test\n    path: ${auth.htpasswd}\n`;
  if (auth && 'token' in auth) {
    const t = auth.token;
    authYaml = `auth:\n  token:\n    realm: ${t.realm}\n    service: ${t.service}\n    issuer: ${t.issuer}\n    rootcertbundle: ${t.rootcertbundle}\n`;
  }
  const tlsYaml = tls ? `  tls:\n    certificate: ${tls.certificate}\n    key: ${tls.key}\n` : '';
  const config = join(dir, 'config.yml');
  writeFileSync(
    config,
    `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: ${opts.accessLog ? 'false' : 'true'}\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: ${ip}:${port}\n${tlsYaml}${authYaml}`,
  );
  // The access log (combined log format, one line per request) goes to stdout.
  const log = opts.accessLog ? openSync(opts.accessLog, 'a') : undefined;
  const proc = spawn('docker-registry', ['serve', config], { stdio: ['ignore', log ?? 'ignore', 'pipe'] });
  if (log !== undefined) closeSync(log);
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  for (let i = 0; ; i++) {
    // Plain HTTP even to a TLS listener: Go answers it with a 400, which is enough to know it listens.
    const ok = await fetch(`http://${ip}:${port}/v2/`).then(() => true, () => false);
    if (ok) break;
    if (proc.exitCode !== null || i > 200) throw new Error(`docker-registry did not start: ${stderr}`);
    await sleep(50);
  }
  return {
    port,
    host: `${ip}:${port}`,
    proc,
    stop: () => stopProcess(proc),
  };
}

export async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const done = new Promise<void>((r) => proc.once('exit', () => r()));
  proc.kill('SIGTERM');
  await Promise.race([done, sleep(5000).then(() => proc.kill('SIGKILL'))]);
  await done;
}

export function htpasswd(dir: string, user: string, pass: string): string {
  const file = join(dir, 'htpasswd');
  writeFileSync(file, execFileSync('htpasswd', ['-Bbn', user, pass]));
  return file;
}

/** docker config.json with one host's credentials. */
export function dockerConfig(file: string, host: string, user: string, pass: string): string {
  writeFileSync(file, JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${user}:${pass}`).toString('base64') } } }));
  return file;
}

export interface TokenIssuer {
  url: string;
  certFile: string;
  requests: Array<{ scope: string[]; user?: string }>;
  server: Server;
  close(): Promise<void>;
}

/**
 * A token service like Docker Hub's: Basic credentials in, a JWT (RS256, x5c header with a cert the registry trusts)
 * granting what the scope asked for. Key and cert come from openssl, made here.
 */
export async function startTokenIssuer(dir: string, opts: { issuer: string; service: string; user: string; pass: string }): Promise<TokenIssuer> {
  mkdirSync(dir, { recursive: true });
  const keyFile = join(dir, 'issuer.key');
  const certFile = join(dir, 'issuer.crt');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=ks-bundle-test-issuer'], { stdio: 'ignore' });
  const key = createPrivateKey(readFileSync(keyFile));
  const der = readFileSync(certFile, 'utf8').replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const requests: TokenIssuer['requests'] = [];
  const b64 = (x: Buffer | string) => Buffer.from(x).toString('base64url');
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const auth = req.headers.authorization ?? '';
    const decoded = auth.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString() : '';
    const user = decoded ? decoded.split(':')[0] : undefined;
    const scopes = url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter(Boolean);
    requests.push({ scope: scopes, user });
    if (decoded !== `${opts.user}:${opts.pass}`) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"details":"bad credentials"}');
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    const access = scopes.map((s) => {
      const [type, ...rest] = s.split(':');
      const actions = rest.pop()!.split(',');
      return { type, name: rest.join(':'), actions };
    });
    const header = { alg: 'RS256', typ: 'JWT', x5c: [der] };
    const claims = { iss: opts.issuer, sub: user, aud: opts.service, exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(), access };
    const signing = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(claims))}`;
    const token = `${signing}.${b64(sign('sha256', Buffer.from(signing), key))}`;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ token, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/token`,
    certFile,
    requests,
    server,
    close: () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }),
  };
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** `skopeo inspect --raw` of a ref and the sha256 of those bytes: the digest as the registry itself serves it. */
export async function upstreamDigest(ref: string, creds?: string): Promise<string> {
  const { stdout: raw } = await promisify(execFile)('skopeo', ['inspect', '--raw', '--tls-verify=false', ...(creds ? ['--creds', creds] : []), `docker://${ref}`], { encoding: 'buffer' });
  return 'sha256:' + sha256Hex(raw);
}

/** A BuildContext for the images kind alone: targets linux/amd64 and linux/arm64 unless told otherwise. */
export function imagesContext(opts: {
  cache: string;
  workDir: string;
  images: string[];
  registries: Manifest['registries'];
  authFile?: string;
  arches?: Array<'amd64' | 'arm64'>;
  locked?: LockEntry[];
  concurrency?: number;
  events?: ProgressEvent[];
}): BuildContext {
  const arches = opts.arches ?? ['amd64', 'arm64'];
  const manifest = testManifest({ targets: arches.map((arch) => testTarget({ arch })), registries: opts.registries, images: opts.images });
  return testContext(manifest, {
    store: opts.cache,
    workDir: opts.workDir,
    onProgress: (e) => opts.events?.push(e),
    concurrency: opts.concurrency,
    retry: { retries: 4, minTimeoutMs: 50, maxTimeoutMs: 2000 },
    registryAuthFile: opts.authFile,
    locked: opts.locked,
  });
}

/** A raw GET whose path no client library normalises (`..`, `%2e%2e` reach the server as written). */
export function rawGet(base: string, path: string): Promise<{ status: number; body: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: u.hostname, port: u.port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
