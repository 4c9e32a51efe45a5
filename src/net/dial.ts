import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type SecureContext } from 'node:tls';
import { KsBundleError, redactUrl } from '../errors.js';
import { parseResponseHead } from './http1.js';

/** Where a connection goes and how: one per origin, or per proxy for plain http through one. */
export interface Route {
  /** Connections with the same key are interchangeable (kept alive and reused). */
  key: string;
  host: string;
  port: number;
  /** TLS to `host`: the context (undefined: the default trust), and the name to check in its certificate. */
  tls?: { context: SecureContext | undefined; servername: string };
  /** Through this proxy: a CONNECT tunnel for TLS, absolute-form requests for plain http. */
  proxy?: URL;
}

export function routeFor(url: URL, proxy: URL | undefined, context: SecureContext | undefined): Route {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const https = url.protocol === 'https:';
  const port = Number(url.port || (https ? 443 : 80));
  const tls = https ? { context, servername: host } : undefined;
  // A plain-http proxy connection may carry requests for any origin; a tunnel is bound to its origin.
  const key = proxy && !https ? `proxy ${proxy.host}` : `${https ? 'tls' : 'tcp'} ${host}:${port}${proxy ? ` via ${proxy.host}` : ''}${context ? ' ca' : ''}`;
  return { key, host, port, tls, proxy };
}

/** The Proxy-Authorization a proxy URL with credentials asks for. */
export function proxyAuthorization(proxy: URL): string | undefined {
  if (!proxy.username && !proxy.password) return undefined;
  return 'Basic ' + Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64');
}

export interface OnRead {
  buffer: Buffer;
  callback: (n: number) => boolean;
}

/**
 * Open a connection along `route` whose reads land in `onread.buffer`. The socket may still be connecting: writes
 * wait for it, and a failure to connect is an 'error' on it. Only a CONNECT tunnel is awaited before the TLS starts.
 */
export async function dial(route: Route, onread: OnRead, signal?: AbortSignal): Promise<Socket> {
  const { proxy, tls } = route;
  if (!tls) {
    const target = proxy ? { host: proxy.hostname.replace(/^\[|\]$/g, ''), port: Number(proxy.port || 80) } : route;
    return netConnect({ host: target.host, port: target.port, onread }).setNoDelay(true);
  }
  const socket = proxy ? await tunnel(proxy, route, signal) : undefined;
  const options: ConnectionOptions & { onread: OnRead } = {
    ...(socket ? { socket } : { host: route.host, port: route.port }),
    // RFC 6066 forbids an IP address as the server name; the certificate is then checked against the IP.
    ...(isIP(tls.servername) ? {} : { servername: tls.servername }),
    ...(tls.context ? { secureContext: tls.context } : {}),
    ALPNProtocols: ['http/1.1'],
    onread,
  };
  const tlsSocket = tlsConnect(options).setNoDelay(true);
  // Node ignores `onread` when TLS wraps a socket it did not open (the tunnel): its 'data' chunks (one TLS record,
  // 16 KiB at most) are copied into the buffer instead, so the reader sees the same thing either way.
  if (socket) {
    tlsSocket.on('data', (chunk: Buffer) => {
      for (let at = 0; at < chunk.length; at += onread.buffer.length) {
        const n = chunk.copy(onread.buffer, 0, at);
        if (onread.callback(n) === false) tlsSocket.pause();
      }
    });
  }
  return tlsSocket;
}

/** `CONNECT host:port` through the proxy; resolves with the raw socket once the proxy said 2xx. */
function tunnel(proxy: URL, route: Route, signal: AbortSignal | undefined): Promise<Socket> {
  const where = `${route.host.includes(':') ? `[${route.host}]` : route.host}:${route.port}`;
  const auth = proxyAuthorization(proxy);
  const socket = netConnect({ host: proxy.hostname.replace(/^\[|\]$/g, ''), port: Number(proxy.port || 80) });
  const name = redactUrl(`${proxy.protocol}//${proxy.host}`);
  return new Promise((resolve, reject) => {
    let got = Buffer.alloc(0);
    const done = (err?: Error) => {
      socket.off('data', onData).off('error', done).off('close', onClose);
      signal?.removeEventListener('abort', onAbort);
      if (err) {
        socket.destroy();
        reject(err);
      } else resolve(socket);
    };
    const onClose = () => done(Object.assign(new Error(`the proxy ${name} closed the connection before answering CONNECT ${where}`), { code: 'ECONNRESET' }));
    const onAbort = () => done(signal!.reason instanceof Error ? signal!.reason : Object.assign(new Error('aborted'), { name: 'AbortError' }));
    const onData = (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      let head;
      try {
        head = parseResponseHead(got);
      } catch (err) {
        return done(new KsBundleError('NETWORK', `the proxy ${name}: ${(err as Error).message}`, { cause: err }));
      }
      if (!head) return;
      // The tunnel is empty until we speak TLS: nothing may follow the proxy's answer.
      if (head.status >= 200 && head.status < 300 && got.length === head.length) return done();
      const retriable = head.status === 502 || head.status === 503 || head.status === 504;
      const err = new KsBundleError('NETWORK', `the proxy ${name} refused CONNECT ${where}: HTTP ${head.status} ${head.statusMessage}`.trim(), {
        hint: head.status === 407 ? 'The proxy wants credentials: put them in the proxy URL (http://user:password@proxy:3128).' : 'Check HTTPS_PROXY and NO_PROXY: hosts the proxy cannot reach belong in NO_PROXY.',
      });
      done(retriable ? Object.assign(new Error(err.message), { code: 'ECONNRESET', cause: err }) : err);
    };
    socket.on('data', onData).on('error', done).on('close', onClose);
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.write(`CONNECT ${where} HTTP/1.1\r\nHost: ${where}\r\n${auth ? `Proxy-Authorization: ${auth}\r\n` : ''}\r\n`);
  });
}
