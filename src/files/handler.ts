import { join } from 'node:path';
import type { MirrorHandler } from '../serving/types.js';
import { sendFromTree } from '../serving/send-file.js';

/** `/files/<name>`: the bundle's binaries and archives, with ranges. */
export const filesHandler: MirrorHandler = (req, res, rest, ctx) => sendFromTree(req, res, join(ctx.bundleDir, 'repos', 'files'), rest);
