import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../store/atomic.js';

/**
 * Which steps of an install are done, per bundle (keyed by its SHA256SUMS digest), so a rerun after a failure
 * carries on. Each step is recorded with the digest of the inputs it ran with (the inventory, the vars): a step run
 * with other inputs is not done. Holds no secrets: only step ids, input digests, times and short details.
 */
export interface InstallState {
  bundle: string;
  done: Record<string, { at: string; inputs: string; detail?: string }>;
}

export class StateFile {
  private constructor(
    readonly path: string,
    private state: InstallState,
  ) {}

  static async open(stateDir: string, bundleSums: string): Promise<StateFile> {
    const path = join(stateDir, 'install-state.json');
    const text = await readFile(path, 'utf8').catch(() => undefined);
    let state: InstallState = { bundle: bundleSums, done: {} };
    if (text) {
      try {
        const old = JSON.parse(text) as InstallState;
        if (old.bundle === bundleSums && old.done && typeof old.done === 'object') state = old;
      } catch {
        // A state file cut short (a crash while writing is not possible with the atomic write, a hand edit is):
        // nothing is known to be done, and every step runs again, which each step tolerates.
      }
    }
    return new StateFile(path, state);
  }

  isDone(step: string, inputs: string): boolean {
    return this.state.done[step]?.inputs === inputs;
  }

  detail(step: string): string | undefined {
    return this.state.done[step]?.detail;
  }

  async markDone(step: string, inputs: string, detail?: string): Promise<void> {
    this.state.done[step] = { at: new Date().toISOString(), inputs, detail };
    // Made with the first step done, not before: an install that stops at its first step (a bundle that does not
    // verify, a data dir too small to unpack it) leaves nothing in the data dir.
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.path, JSON.stringify(this.state, null, 2) + '\n', 0o600);
  }
}
