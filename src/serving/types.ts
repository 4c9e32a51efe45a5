import type { IncomingMessage, ServerResponse } from 'node:http';

export interface MirrorContext {
  /** The unpacked bundle's top folder. */
  bundleDir: string;
  /** Record a request the mirror could not serve (the installer's miss log). */
  miss(reason: string): void;
}

/**
 * A handler owns one mount of the mirror. `rest` is the request path after the mount point, still
 * percent-encoded: each handler decides what a segment may be. Returns false when it has nothing for the request
 * (the server then answers 404 and logs a miss).
 */
export type MirrorHandler = (req: IncomingMessage, res: ServerResponse, rest: string, ctx: MirrorContext) => Promise<boolean>;
