/**
 * nginx as a real static upstream on loopback: serves a folder as it is (HEAD, Range, 404 for what is not there) and
 * writes an access log with each request's method, path, status and Range header, so a test can say what a client
 * asked for. One process (no master, no daemon), stopped by its PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stopProcess } from '../images/support.js';
import type { RealNames } from './real-names.js';

export interface AccessLine {
  method: string;
  path: string;
  status: number;
  /** The request's Range header, '' without one. */
  range: string;
  bytesSent: number;
}

export interface Nginx {
  url: string;
  /** Every request so far, oldest first. */
  log(): AccessLine[];
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

async function accepting(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection({ host, port });
    c.once('connect', () => (c.destroy(), resolve(true)));
    c.once('error', () => resolve(false));
  });
}

/** Serve `root` (a folder; an empty one answers 404 to everything). */
export async function startNginx(root: string): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), 'ksb-nginx-'));
  const port = await freePort();
  const run = await runNginx(dir, ['  include /etc/nginx/mime.types;', `  server { listen 127.0.0.1:${port}; root ${root}; index index.html; }`], { host: '127.0.0.1', port });
  return {
    url: `http://127.0.0.1:${port}`,
    log: () => run.log().map(({ host: _, ...line }) => line),
    close: async () => {
      await run.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One request to a named server of `startNamedNginx`: which name it was for, and the rest as `log()` gives it. */
export interface NamedAccessLine extends AccessLine {
  host: string;
}

export interface NamedNginx {
  /** The folder each name serves (its document root). */
  root(name: string): string;
  log(): NamedAccessLine[];
  close(): Promise<void>;
}

/**
 * One nginx serving a folder per name over TLS, each on the name's own loopback address (real-names.ts) at port 443,
 * and over plain HTTP at port 80. Names in `refuseHead` answer HEAD with 405, as object stores do for a URL signed
 * for GET.
 */
export async function startNamedNginx(dir: string, names: string[], world: Pick<RealNames, 'ip' | 'cert' | 'key'>, opts: { refuseHead?: string[] } = {}): Promise<NamedNginx> {
  const servers = names.map((name) => {
    mkdirSync(join(dir, 'www', name), { recursive: true });
    const refuse = opts.refuseHead?.includes(name) ? ' if ($request_method = HEAD) { return 405; }' : '';
    return `  server { listen ${world.ip(name)}:443 ssl; listen ${world.ip(name)}:80; server_name ${name}; ssl_certificate ${world.cert}; ssl_certificate_key ${world.key}; root ${join(dir, 'www', name)};${refuse} }`;
  });
  // Workers read the test's folders, which are private to root.
  const run = await runNginx(dir, servers, { host: world.ip(names[0]!), port: 443 }, ['user root;']);
  return { root: (name) => join(dir, 'www', name), log: run.log, close: run.stop };
}

/** Write the config of one nginx (no master, no daemon) with `http` lines of its own, start it and wait for `ready`. */
async function runNginx(dir: string, http: string[], ready: { host: string; port: number }, main: string[] = []): Promise<{ log(): NamedAccessLine[]; stop(): Promise<void> }> {
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  const log = join(dir, 'access.log');
  writeFileSync(log, '');
  writeFileSync(
    join(dir, 'nginx.conf'),
    [
      ...main,
      'daemon off;',
      'master_process off;',
      'worker_processes 1;',
      `pid ${join(dir, 'nginx.pid')};`,
      `error_log ${join(dir, 'error.log')} warn;`,
      'events { worker_connections 256; }',
      'http {',
      '  default_type application/octet-stream;',
      `  log_format ksb '$server_name\\t$request_method\\t$uri\\t$status\\t$http_range\\t$body_bytes_sent';`,
      `  access_log ${log} ksb;`,
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${join(dir, 'tmp', t)};`),
      ...http,
      '}',
      '',
    ].join('\n'),
  );
  const proc: ChildProcess = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d) => (err = (err + d).slice(-4000)));
  for (let i = 0; !(await accepting(ready.port, ready.host)); i++) {
    if (proc.exitCode !== null || i > 200) {
      await stopProcess(proc);
      let more = '';
      try {
        more = readFileSync(join(dir, 'error.log'), 'utf8');
      } catch {
        // no log written yet
      }
      throw new Error(`nginx did not start: ${err}${more}`);
    }
    await sleep(25);
  }
  return {
    log: () =>
      readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const [host, method, path, status, range, bytes] = l.split('\t');
          return { host: host!, method: method!, path: path!, status: Number(status), range: range === '-' ? '' : range!, bytesSent: Number(bytes) };
        }),
    stop: () => stopProcess(proc),
  };
}
