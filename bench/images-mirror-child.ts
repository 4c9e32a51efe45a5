/** The mirror alone in its own process, so its peak RSS can be read from /proc. argv: bundleDir. Prints its URL. */
import { startMirror } from '../src/mirror/server.js';
import { BUNDLE_MOUNTS } from '../src/cli/mirror-mounts.js';

const m = await startMirror({ bundleDir: process.argv[2]!, mounts: BUNDLE_MOUNTS, port: 0 });
process.stdout.write(m.url + '\n');
process.on('SIGTERM', () => void m.close().then(() => process.exit(0)));
