import type { Mount } from '../serving/types.js';
import { sendFromTree } from '../serving/send-file.js';

/** `/files/<name>`: the bundle's binaries and archives, with ranges. */
export const filesMount: Mount = {
  path: '/files/',
  create: (bundle) => {
    const root = bundle.sub('repos', 'files');
    return (req, res, rest) => sendFromTree(req, res, root, rest);
  },
};
