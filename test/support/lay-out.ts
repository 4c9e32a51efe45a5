import { copyFileSync, linkSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { KindOutput } from '../../src/collector/context.js';

/** Lay a collector's output out as an unpacked bundle folder would hold it (store files hard-linked, data written). */
export function layOut(out: KindOutput, bundleDir: string): void {
  for (const e of out.entries) {
    const dest = join(bundleDir, e.path);
    mkdirSync(dirname(dest), { recursive: true });
    if (e.data) writeFileSync(dest, e.data);
    else {
      try {
        linkSync(e.file!, dest);
      } catch {
        copyFileSync(e.file!, dest);
      }
    }
  }
}
