import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How a path must be asked for: HTTP basic auth with these credentials, or a `token` query parameter. */
export type Guard = { basic: { user: string; password: string } } | { token: string } | 'open';

export interface GuardedUpstream {
  url: string;
  /** Paths served, each with its bytes and guard. */
  files: Map<string, { body: Buffer; guard: Guard }>;
  /** Every request: its path (without the query), whether it passed the guard, and the status sent. */
  requests: Array<{ path: string; status: number; method: string }>;
  /** The most requests this server had in flight at once. */
  peakInFlight(): number;
  /** Send each body at this many bytes per 10 ms (a slow upstream); 0 sends at once. */
  setDribble(bytesPer10ms: number): void;
  close(): Promise<void>;
}

function allowed(req: IncomingMessage, guard: Guard): boolean {
  if (guard === 'open') return true;
  if ('token' in guard) return new URL(req.url ?? '/', 'http://x').searchParams.get('token') === guard.token;
  const want = 'Basic ' + Buffer.from(`${guard.basic.user}:${guard.basic.password}`).toString('base64');
  return req.headers.authorization === want;
}

/** A real HTTP server on loopback that serves bytes only to a client that brings the path's credentials. */
export async function startGuardedUpstream(): Promise<GuardedUpstream> {
  const files = new Map<string, { body: Buffer; guard: Guard }>();
  const requests: GuardedUpstream['requests'] = [];
  let inFlight = 0;
  let peak = 0;
  let dribble = 0;
  const server = createServer(async (req, res) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    // A request stops counting just before its last bytes go out: the client cannot start its next one earlier, so
    // the count never includes a request the client already considers done.
    let counted = true;
    const done = () => {
      if (counted) inFlight--;
      counted = false;
    };
    res.on('close', done);
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const file = files.get(path);
    const status = !file ? 404 : allowed(req, file.guard) ? 200 : 401;
    requests.push({ path, status, method: req.method ?? '' });
    if (status !== 200) {
      done();
      res.writeHead(status, status === 401 ? { 'www-authenticate': 'Basic realm="test"' } : {}).end();
      return;
    }
    res.writeHead(200, { 'content-length': file!.body.length });
    const body = file!.body;
    const step = dribble || body.length;
    for (let at = 0; at < body.length && !res.destroyed; at += step) {
      if (at + step >= body.length) done();
      res.write(body.subarray(at, at + step));
      if (dribble) await new Promise((r) => setTimeout(r, 10));
    }
    done();
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    files,
    requests,
    peakInFlight: () => peak,
    setDribble: (n) => (dribble = n),
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
