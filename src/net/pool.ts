import type { Socket } from 'node:net';
import { dial, type Route } from './dial.js';

/**
 * Socket reads land in one reused buffer this large. node:http reads 64 KiB into a fresh buffer each time and pushes
 * it through a stream; on these machines that alone cost ~2 CPU-seconds per GB, four times what hashing costs.
 */
const READ_BUFFER = 1 << 20;
const MAX_SPARE_BUFFERS = 8;
/** An idle connection is kept this long for the next request: under the 5 s many servers allow before closing. */
const IDLE_MS = 4000;
const MAX_IDLE_PER_ROUTE = 8;

/**
 * The connections one client keeps alive between requests (an apt mirror answers hundreds of small debs on one), and
 * the read buffers of closed ones. It belongs to the client that made it; `close()` ends every idle connection.
 */
export class ConnectionPool {
  private readonly idle = new Map<string, Connection[]>();
  private readonly spare: Buffer[] = [];

  /** A kept connection for `route`, taken off the idle list. */
  reuse(route: Route): Connection | undefined {
    const conn = this.idle.get(route.key)?.pop();
    conn?.unpark();
    return conn;
  }

  async open(route: Route, signal?: AbortSignal): Promise<Connection> {
    const buffer = this.spare.pop() ?? Buffer.allocUnsafe(READ_BUFFER);
    const conn = new Connection(this, route.key, buffer);
    try {
      conn.attach(await dial(route, { buffer, callback: (n) => conn.reader(n) }, signal));
    } catch (err) {
      this.giveBack(buffer);
      throw err;
    }
    return conn;
  }

  /** @internal */
  park(conn: Connection): (() => void) | undefined {
    const list = this.idle.get(conn.key) ?? [];
    if (list.length >= MAX_IDLE_PER_ROUTE) return undefined;
    list.push(conn);
    this.idle.set(conn.key, list);
    return () => {
      const at = list.indexOf(conn);
      if (at >= 0) list.splice(at, 1);
    };
  }

  /** @internal */
  giveBack(buffer: Buffer): void {
    if (this.spare.length < MAX_SPARE_BUFFERS) this.spare.push(buffer);
  }

  close(): void {
    for (const list of this.idle.values()) for (const conn of [...list]) conn.drop();
    this.idle.clear();
    this.spare.length = 0;
  }
}

/** One connection and the buffer its reads land in; each exchange on it points `reader` at itself. */
export class Connection {
  socket!: Socket;
  reader: (n: number) => boolean = () => false;
  /** It has answered before, so a failure before the first byte may only mean the server let it go. */
  reused = false;
  /** While parked: takes it off the idle list and closes it. */
  private leave: (() => void) | undefined;
  private dropped = false;

  constructor(
    private readonly pool: ConnectionPool,
    readonly key: string,
    readonly buffer: Buffer,
  ) {}

  /** @internal */
  attach(socket: Socket): void {
    this.socket = socket;
  }

  /** Keep it for the next request on the same route, reading so that a close from the server is noticed. */
  park(): void {
    const unlist = this.socket.destroyed ? undefined : this.pool.park(this);
    if (!unlist) return this.drop();
    this.leave = () => {
      unlist();
      this.drop();
    };
    // Bytes nobody asked for mean the server is confused about where the last answer ended.
    this.reader = () => {
      this.leave!();
      return false;
    };
    this.socket.on('end', this.leave).on('close', this.leave).on('error', this.leave).on('timeout', this.leave);
    this.socket.setTimeout(IDLE_MS);
    this.socket.unref();
    this.socket.resume();
  }

  /** @internal Taken back from the idle list for a new exchange. */
  unpark(): void {
    const leave = this.leave!;
    this.leave = undefined;
    this.socket.off('end', leave).off('close', leave).off('error', leave).off('timeout', leave);
    this.socket.ref();
    this.reused = true;
  }

  /** Close it; its buffer goes back to the pool (readers copy what they keep, so nothing points into it). */
  drop(): void {
    if (this.dropped) return;
    this.dropped = true;
    this.reader = () => false;
    this.socket.destroy();
    this.pool.giveBack(this.buffer);
  }
}
