import type { Mount } from '../serving/types.js';
import { sendFromTree } from '../serving/send-file.js';

/** `/apt/<os>/...` straight from `<bundle>/repos/apt/`: static files, traversal-safe, read-only. */
export const aptMount: Mount = {
  path: '/apt/',
  create: (bundle) => {
    const root = bundle.sub('repos', 'apt');
    return (req, res, rest) => sendFromTree(req, res, root, rest);
  },
};
