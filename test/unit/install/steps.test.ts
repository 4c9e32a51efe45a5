import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProgressEvent } from '../../../src/progress/events.js';
import { StateFile } from '../../../src/install/state.js';
import { runSteps, type Step, type StepId } from '../../../src/install/steps.js';

interface Ctx {
  ran: string[];
  input: string;
  failAt?: StepId;
  alive: boolean;
}

const step = (id: StepId, extra: Partial<Step<Ctx>> = {}): Step<Ctx> => ({
  id,
  title: `the ${id} step`,
  hosts: () => ['taskbox'],
  async run(c) {
    c.ran.push(id);
    if (c.failAt === id) throw new Error(`${id} broke\nsecond line`);
    return { status: 'done', detail: `${id} ok` };
  },
  ...extra,
});

const STEPS: Array<Step<Ctx>> = [
  step('verify', { always: true }),
  step('mirror', { stillDone: async (c) => c.alive }),
  step('cluster', { inputs: (c) => c.input }),
  step('report', { always: true }),
];

describe('runSteps', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const run = async (ctx: Ctx) => {
    const events: ProgressEvent[] = [];
    const state = await StateFile.open(dir, 'sums-1');
    const result = await runSteps(STEPS, ctx, state, (e) => events.push(e)).then(() => undefined, (err: Error) => err);
    return { events: events.flatMap((e) => (e.type === 'step' ? [`${e.index}/${e.total} ${e.id} ${e.status}`] : [])), error: result };
  };

  it('records each step; a rerun skips the recorded ones and runs the always-steps again', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ksb-steps-'));
    const ctx: Ctx = { ran: [], input: 'a', alive: true };
    expect((await run(ctx)).events).toEqual(['1/4 verify running', '1/4 verify done', '2/4 mirror running', '2/4 mirror done', '3/4 cluster running', '3/4 cluster done', '4/4 report running', '4/4 report done']);
    const recorded = JSON.parse(readFileSync(join(dir, 'install-state.json'), 'utf8'));
    expect(Object.keys(recorded.done)).toEqual(['verify', 'mirror', 'cluster', 'report']);
    ctx.ran = [];
    expect((await run(ctx)).events).toEqual(['1/4 verify running', '1/4 verify done', '2/4 mirror skipped', '3/4 cluster skipped', '4/4 report running', '4/4 report done']);
    expect(ctx.ran).toEqual(['verify', 'report']);
  });

  it('a failure stops the run at that step, and the next run carries on there', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ksb-steps-'));
    const ctx: Ctx = { ran: [], input: 'a', alive: true, failAt: 'cluster' };
    const first = await run(ctx);
    expect(first.error?.message).toBe('cluster broke\nsecond line');
    expect(first.events.slice(-2)).toEqual(['3/4 cluster running', '3/4 cluster failed']);
    expect(ctx.ran).toEqual(['verify', 'mirror', 'cluster']);
    ctx.ran = [];
    ctx.failAt = undefined;
    await run(ctx);
    expect(ctx.ran).toEqual(['verify', 'cluster', 'report']);
  });

  it('a recorded step runs again when its inputs changed or what it left behind is gone', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ksb-steps-'));
    const ctx: Ctx = { ran: [], input: 'a', alive: true };
    await run(ctx);
    ctx.ran = [];
    ctx.input = 'b';
    ctx.alive = false;
    await run(ctx);
    expect(ctx.ran).toEqual(['verify', 'mirror', 'cluster', 'report']);
  });

  it('a state file of another bundle, or one that is not JSON, counts nothing as done', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ksb-steps-'));
    writeFileSync(join(dir, 'install-state.json'), JSON.stringify({ bundle: 'sums-0', done: { mirror: { at: 'x', inputs: '' } } }));
    const ctx: Ctx = { ran: [], input: 'a', alive: true };
    await run(ctx);
    expect(ctx.ran).toEqual(['verify', 'mirror', 'cluster', 'report']);
    writeFileSync(join(dir, 'install-state.json'), '{"bundle": "sums-1", "done": {');
    ctx.ran = [];
    await run(ctx);
    expect(ctx.ran).toEqual(['verify', 'mirror', 'cluster', 'report']);
  });
});
