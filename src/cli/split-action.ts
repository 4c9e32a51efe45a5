import { basename } from 'node:path';
import { splitFile } from '../parts/split.js';
import { formatBytes } from '../progress/format.js';
import { createRenderer, progressMode } from './progress.js';

/** `ks-bundle split`, its command line parsed (cli/split.ts). */
export async function splitAction(bundle: string, o: { size: number }): Promise<void> {
  const renderer = await createRenderer(progressMode(false));
  const result = await splitFile(bundle, o.size, { onProgress: renderer.onProgress }).finally(() => renderer.stop());
  for (const p of result.parts) process.stdout.write(`${p.name}  ${formatBytes(p.size)}\n`);
  process.stdout.write(`${basename(result.partsFile)}  lists ${result.parts.length} part(s); check them with: sha256sum -c ${basename(result.partsFile)}\n`);
}
