// Packs a folder into a bundle with the real writer (from dist/, so no transpiler is timed); digests come from a
// SHA256SUMS beside the folder, as a real build has them from the download pass. usage: pack-tree.mjs TREE SUMS OUT
import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeBundle } from '../../dist/bundle/write.js';
import { parseSums } from '../../dist/bundle/sha256sums.js';
import { FORMAT_VERSION } from '../../dist/bundle/layout.js';

const [tree, sumsFile, out] = process.argv.slice(2);
const { sums } = parseSums(readFileSync(sumsFile, 'utf8'));
const entries = await Promise.all(
  [...sums].map(async ([path, sha256]) => ({ path, file: join(tree, path), sha256, size: (await stat(join(tree, path))).size })),
);
await writeBundle({ name: 'bench', version: '1.0.0', entries, meta: {
  apiVersion: 'ks-bundle/v1', kind: 'Bundle', formatVersion: FORMAT_VERSION, name: 'bench', version: '1.0.0',
  manifest: { file: 'bench.yaml', sha256: '0'.repeat(64) }, targets: [], counts: {}, bytes: {}, installer: { apt: [], pip: [] }, aptRepos: {}, registries: [],
}, out, asDirectory: false, compress: 'none' });
