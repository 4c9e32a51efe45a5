import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServedRoot } from './root.js';

export interface MirrorContext {
  /** Record a request the mirror could not serve (the installer's miss log). */
  miss(reason: string): void;
}

/**
 * A handler owns one mount of the mirror. `rest` is the request path after the mount point, still
 * percent-encoded: each handler decides what a segment may be. Returns false when it has nothing for the request
 * (the server then answers 404 and logs a miss).
 */
export type MirrorHandler = (req: IncomingMessage, res: ServerResponse, rest: string, ctx: MirrorContext) => Promise<boolean>;

/**
 * One mount of the mirror: a path prefix ending in `/`, and what makes its handler. `create` runs once per mirror,
 * when it starts, with the bundle's top folder by its real path; whatever the handler keeps between requests (a
 * cache) lives in that handler and goes away with the mirror, so two mirrors in one process share nothing.
 */
export interface Mount {
  path: string;
  create(bundle: ServedRoot): MirrorHandler;
}
