import { join } from 'node:path';
import type { MirrorHandler } from '../serving/types.js';
import { sendFromTree } from '../serving/send-file.js';

/** `/apt/<os>/...` straight from `<bundle>/repos/apt/`: static files, traversal-safe, read-only. */
export const aptHandler: MirrorHandler = async (req, res, rest, ctx) => sendFromTree(req, res, join(ctx.bundleDir, 'repos', 'apt'), rest);
