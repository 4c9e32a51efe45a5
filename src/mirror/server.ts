import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { MirrorContext, MirrorHandler } from '../serving/types.js';
import { registryHandler } from '../images/registry-handler.js';
import { aptHandler } from '../apt/handler.js';
import { pipHandler } from '../pip/handler.js';
import { filesHandler } from '../files/handler.js';

export interface MirrorOptions {
  bundleDir: string;
  host?: string;
  port?: number;
  /** Access log file; every request, one line each. */
  accessLog?: string;
  /** Miss log file; every request the mirror could not serve. */
  missLog?: string;
}

export interface Miss {
  time: string;
  method: string;
  path: string;
  client: string;
  reason: string;
}

export interface RunningMirror {
  server: Server;
  url: string;
  port: number;
  misses: Miss[];
  close(): Promise<void>;
}

/** Mount points, longest first; each handler gets the rest of the path. */
export const MOUNTS: Array<[string, MirrorHandler]> = [
  ['/pypi/simple/', pipHandler],
  ['/files/', filesHandler],
  ['/apt/', aptHandler],
  ['/v2/', registryHandler],
];

const WRITE_METHODS = new Set(['PUT', 'POST', 'PATCH', 'DELETE']);

/** The mirror: one port, read-only, serving nothing outside the bundle. */
export async function startMirror(opts: MirrorOptions): Promise<RunningMirror> {
  const misses: Miss[] = [];
  const server = createServer((req, res) => {
    handle(req, res, opts, misses).catch((err) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('internal error\n');
      } else res.destroy();
      recordMiss(req, `error: ${(err as Error).message}`, opts, misses);
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 5080, opts.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address === '0.0.0.0' ? '127.0.0.1' : addr.address;
  return {
    server,
    port: addr.port,
    url: `http://${host}:${addr.port}`,
    misses,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, opts: MirrorOptions, misses: Miss[]): Promise<void> {
  const rawPath = (req.url ?? '/').split('?')[0]!;
  res.on('finish', () => logAccess(req, res.statusCode, opts));
  if (WRITE_METHODS.has(req.method ?? '')) {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' });
    res.end('the mirror is read-only\n');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' });
    res.end();
    return;
  }
  if (rawPath === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok\n');
    return;
  }
  if (rawPath === '/misses') {
    const body = JSON.stringify(misses, null, 1) + '\n';
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  const ctx: MirrorContext = {
    bundleDir: opts.bundleDir,
    miss: (reason) => recordMiss(req, reason, opts, misses),
  };
  for (const [mount, handler] of MOUNTS) {
    const bare = mount.slice(0, -1);
    if (rawPath === bare || rawPath.startsWith(mount)) {
      const rest = (req.url ?? '').slice(Math.min(mount.length, rawPath.length));
      if (await handler(req, res, rest, ctx)) return;
      if (!res.headersSent) notFound(res);
      ctx.miss('not in bundle');
      return;
    }
  }
  notFound(res);
  ctx.miss('no such mount');
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('not in this bundle\n');
}

function recordMiss(req: IncomingMessage, reason: string, opts: MirrorOptions, misses: Miss[]): void {
  const miss: Miss = {
    time: new Date().toISOString(),
    method: req.method ?? '?',
    path: req.url ?? '',
    client: req.socket.remoteAddress ?? '?',
    reason,
  };
  misses.push(miss);
  if (opts.missLog) writeLog(opts.missLog, JSON.stringify(miss) + '\n');
}

function logAccess(req: IncomingMessage, status: number, opts: MirrorOptions): void {
  if (!opts.accessLog) return;
  writeLog(opts.accessLog, `${new Date().toISOString()} ${req.socket.remoteAddress} ${req.method} ${req.url} ${status}\n`);
}

/** Logs are best effort: a full disk or a removed folder must never take the mirror down. */
function writeLog(file: string, line: string): void {
  appendFile(file, line).catch(() => mkdir(dirname(file), { recursive: true }).then(() => appendFile(file, line)).catch(() => {}));
}
