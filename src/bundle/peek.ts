import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Parser, type ReadEntry } from 'tar';
import { InputError } from '../errors.js';

/**
 * Read a few small files (bundle.yaml, the lock) out of a bundle without reading the rest: the writer puts them
 * first, so a tarball is read only until they are found.
 */
export async function peekFiles(bundle: string, names: string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  let st;
  try {
    st = await stat(bundle);
  } catch {
    throw new InputError(`${bundle}: no such bundle`);
  }
  if (st.isDirectory()) {
    for (const n of names) {
      const text = await readFile(join(bundle, n), 'utf8').catch(() => undefined);
      if (text !== undefined) found.set(n, text);
    }
    return found;
  }
  const input = createReadStream(bundle, { highWaterMark: 1 << 20 });
  await new Promise<void>((resolve) => {
    const parser = new Parser({
      onReadEntry: (entry: ReadEntry) => {
        const rel = entry.path.split('/').slice(1).join('/');
        if (!names.includes(rel)) return void entry.resume();
        const chunks: Buffer[] = [];
        entry.on('data', (c: Buffer) => chunks.push(c));
        entry.on('end', () => {
          found.set(rel, Buffer.concat(chunks).toString('utf8'));
          if (found.size === names.length) {
            input.destroy();
            resolve();
          }
        });
      },
    });
    parser.on('end', () => resolve());
    parser.on('error', () => resolve());
    input.on('error', () => resolve());
    input.on('close', () => resolve());
    input.pipe(parser);
  });
  return found;
}
