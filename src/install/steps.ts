import type { OnProgress } from '../progress/events.js';
import type { StateFile } from './state.js';

/** The ids of an install's steps, in the order they run. */
export const STEP_IDS = ['verify', 'unpack', 'mirror', 'taskbox', 'preflight', 'wire', 'cluster', 'kubesphere', 'report'] as const;
export type StepId = (typeof STEP_IDS)[number];

/** What a step's run says: done, or skipped because there is nothing for it to do. Both are recorded. */
export type StepOutcome = { status: 'done'; detail?: string } | { status: 'skipped'; detail: string };

export interface Step<C> {
  id: StepId;
  title: string;
  /** The hosts it touches or reads, by inventory name ("taskbox" for the machine the installer runs on). */
  hosts: (ctx: C) => string[];
  /**
   * The inputs that make a recorded run still valid (a digest of the vars it used, say); a recorded step whose
   * inputs changed runs again. None: the bundle alone decides.
   */
  inputs?: (ctx: C) => string;
  /** Runs every time, recorded or not: read-only work that proves something afresh (verify). */
  always?: boolean;
  /** Whether what a recorded run left behind is still there (a mirror that answers); false runs it again. */
  stillDone?: (ctx: C) => Promise<boolean>;
  /** Runs on a rerun even when recorded, to restore what later steps need in memory, without changing anything. */
  resume?: (ctx: C) => Promise<void>;
  run: (ctx: C) => Promise<StepOutcome>;
}

/**
 * Run the steps in order. A step recorded as done with the same inputs (and still done) is reported `skipped` and
 * not run; every other step runs, and is recorded when it finishes. The first failure is reported `failed` and
 * stops the run: the next run carries on at that step.
 */
export async function runSteps<C>(steps: ReadonlyArray<Step<C>>, ctx: C, state: StateFile, onProgress: OnProgress): Promise<void> {
  const total = steps.length;
  for (const [i, step] of steps.entries()) {
    const event = { type: 'step' as const, id: step.id, title: step.title, index: i + 1, total };
    const inputs = step.inputs?.(ctx) ?? '';
    if (!step.always && state.isDone(step.id, inputs) && (!step.stillDone || (await step.stillDone(ctx)))) {
      await step.resume?.(ctx);
      onProgress({ ...event, status: 'skipped', detail: `done before${state.detail(step.id) ? `: ${state.detail(step.id)}` : ''}` });
      continue;
    }
    onProgress({ ...event, status: 'running' });
    let outcome: StepOutcome;
    try {
      outcome = await step.run(ctx);
    } catch (err) {
      onProgress({ ...event, status: 'failed', detail: firstLine(err) });
      throw err;
    }
    // A step with nothing to do (no playbooks in the bundle, a folder that needs no unpacking) is recorded too: the
    // next run has nothing to do for it either.
    await state.markDone(step.id, inputs, outcome.detail);
    onProgress({ ...event, status: outcome.status, detail: outcome.detail });
  }
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0]!;
}
