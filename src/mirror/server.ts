import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { KsBundleError } from '../errors.js';
import { ServedRoot } from '../serving/root.js';
import type { MirrorContext, MirrorHandler, Mount } from '../serving/types.js';
import { localUrl } from './address.js';
import { LogFile } from './log-file.js';
import { MissList, type Miss } from './misses.js';

export type { Miss } from './misses.js';

export interface MirrorOptions {
  bundleDir: string;
  /** What the mirror serves: each mount's handler is made once, for this mirror. */
  mounts: Mount[];
  /** The address to listen on (127.0.0.1 unless given). */
  listen?: string;
  port?: number;
  /** Folder for access.log and misses.jsonl (made mode 0700 when missing; the files are 0600). No logs on disk without it. */
  logDir?: string;
  /** Size at which a log file is rotated to `<file>.1`; each log takes at most twice this on disk. */
  logMaxBytes?: number;
  /** How many of the latest misses /misses keeps. */
  maxMisses?: number;
  /** Which bundle this is (its root digest), said by /healthz: an install of another release replaces this mirror. */
  serves?: string;
}

/** The header of /healthz that names the bundle served (its root digest). */
export const SERVES_HEADER = 'x-ks-bundle-serves';

export interface RunningMirror {
  server: Server;
  /** How a program on this machine reaches the mirror. */
  url: string;
  port: number;
  /** The misses kept in memory, oldest first. */
  readonly misses: Miss[];
  /** Every miss since the mirror started, including those no longer kept. */
  readonly missCount: number;
  close(): Promise<void>;
}

export const LOG_MAX_BYTES = 16 << 20;
const MAX_MISSES = 1000;
const WRITE_METHODS = new Set(['PUT', 'POST', 'PATCH', 'DELETE']);

/** The mirror: one port, read-only, serving nothing whose real path lies outside the bundle's mounts. */
export async function startMirror(opts: MirrorOptions): Promise<RunningMirror> {
  const bundle = await ServedRoot.resolve(opts.bundleDir).catch((err: NodeJS.ErrnoException) => {
    throw new KsBundleError('INVALID_INPUT', `${opts.bundleDir}: cannot serve this folder (${err.code ?? err.message})`);
  });
  // Longest first, so a mount inside another one wins.
  const mounts = [...opts.mounts].sort((a, b) => b.path.length - a.path.length).map((m): [string, MirrorHandler] => [m.path, m.create(bundle)]);
  if (opts.logDir) await mkdir(opts.logDir, { recursive: true, mode: 0o700 });
  const logMax = opts.logMaxBytes ?? LOG_MAX_BYTES;
  const state: State = {
    mounts,
    misses: new MissList(opts.maxMisses ?? MAX_MISSES),
    accessLog: opts.logDir ? new LogFile(join(opts.logDir, 'access.log'), logMax) : undefined,
    missLog: opts.logDir ? new LogFile(join(opts.logDir, 'misses.jsonl'), logMax) : undefined,
    serves: opts.serves,
  };
  const server = createServer((req, res) => {
    handle(req, res, state).catch((err) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('internal error\n');
      } else res.destroy();
      // The cause goes to the miss list and log (private to the taskbox), never into the answer.
      recordMiss(req, `error: ${(err as Error).message}`, state);
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 5080, opts.listen ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return {
    server,
    port: addr.port,
    url: localUrl(addr.address, addr.port),
    get misses() {
      return state.misses.since();
    },
    get missCount() {
      return state.misses.total;
    },
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await Promise.all([state.accessLog?.close(), state.missLog?.close()]);
    },
  };
}

interface State {
  mounts: Array<[string, MirrorHandler]>;
  misses: MissList;
  accessLog?: LogFile;
  missLog?: LogFile;
  serves?: string;
}

async function handle(req: IncomingMessage, res: ServerResponse, state: State): Promise<void> {
  const [rawPath = '/', query = ''] = (req.url ?? '/').split('?', 2);
  res.on('finish', () => logAccess(req, res.statusCode, state));
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
    res.writeHead(200, { 'content-type': 'text/plain', ...(state.serves ? { [SERVES_HEADER]: state.serves } : {}) });
    res.end('ok\n');
    return;
  }
  if (rawPath === '/misses') return sendMisses(req, res, state.misses, query);
  const ctx: MirrorContext = { miss: (reason) => recordMiss(req, reason, state) };
  for (const [mount, handler] of state.mounts) {
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

/**
 * `/misses[?since=N]`: the kept misses after sequence number N, for programs on the taskbox itself (the installer
 * compares before and after its run). Other machines get 403: the list names the clients and paths of everyone.
 */
function sendMisses(req: IncomingMessage, res: ServerResponse, misses: MissList, query: string): void {
  if (!fromThisMachine(req)) {
    res.writeHead(403, { 'content-type': 'text/plain' });
    res.end('the miss list is for the taskbox itself; see the miss log there\n');
    return;
  }
  const since = Number(new URLSearchParams(query).get('since') ?? 0);
  const body = JSON.stringify(misses.since(Number.isFinite(since) ? since : 0), null, 1) + '\n';
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-ks-bundle-miss-count': String(misses.total) });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** A connection from this machine: over loopback, or to one of its own addresses from that same address. */
function fromThisMachine(req: IncomingMessage): boolean {
  const remote = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
  return remote === '::1' || remote.startsWith('127.') || remote === (req.socket.localAddress ?? '').replace(/^::ffff:/, '');
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('not in this bundle\n');
}

function recordMiss(req: IncomingMessage, reason: string, state: State): void {
  const miss = state.misses.add({
    time: new Date().toISOString(),
    method: req.method ?? '?',
    path: req.url ?? '',
    client: req.socket.remoteAddress ?? '?',
    reason,
  });
  state.missLog?.write(JSON.stringify(miss) + '\n');
}

function logAccess(req: IncomingMessage, status: number, state: State): void {
  // Control characters in a path would let a client forge lines of the log; they are written percent-encoded.
  const path = (req.url ?? '').replace(/[\x00-\x20\x7f]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  state.accessLog?.write(`${new Date().toISOString()} ${req.socket.remoteAddress} ${req.method} ${path} ${status}\n`);
}
