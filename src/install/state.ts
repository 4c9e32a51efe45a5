import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../store/atomic.js';

/**
 * Which steps of an install are done, per bundle (keyed by its SHA256SUMS digest), so a rerun after a failure
 * carries on. Holds no secrets: only step names, times and facts the next steps need.
 */
export interface InstallState {
  bundle: string;
  done: Record<string, { at: string; detail?: string }>;
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
      const old = JSON.parse(text) as InstallState;
      if (old.bundle === bundleSums) state = old;
    }
    return new StateFile(path, state);
  }

  isDone(step: string): boolean {
    return step in this.state.done;
  }

  async markDone(step: string, detail?: string): Promise<void> {
    this.state.done[step] = { at: new Date().toISOString(), detail };
    await writeFileAtomic(this.path, JSON.stringify(this.state, null, 2) + '\n', 0o600);
  }

  async forget(step: string): Promise<void> {
    delete this.state.done[step];
    await writeFileAtomic(this.path, JSON.stringify(this.state, null, 2) + '\n', 0o600);
  }
}
