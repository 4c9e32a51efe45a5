import { lockOf } from '../bundle/lock-of.js';
import { diffArtifacts, renderDiff } from '../diff/diff.js';
import { createRenderer, progressMode } from './progress.js';

/** `ks-bundle diff`, its command line parsed (cli/diff.ts). */
export async function diffAction(oldPath: string, newPath: string, o: { json?: boolean }): Promise<void> {
  const renderer = await createRenderer(o.json ? 'quiet' : progressMode(false));
  const both = async () => [await lockOf(oldPath, { onProgress: renderer.onProgress }), await lockOf(newPath, { onProgress: renderer.onProgress })] as const;
  const [a, b] = await both().finally(() => renderer.stop());
  const diff = diffArtifacts(a.lock.artifacts, b.lock.artifacts);
  process.stdout.write(o.json ? JSON.stringify(diff, null, 2) + '\n' : renderDiff(diff));
}
