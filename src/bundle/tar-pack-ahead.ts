/**
 * Packing ahead. A second build of a manifest from a warm cache most often packs the very tarball the build before
 * packed: the same headers, the same bodies by digest. So the build remembers what it packed (its tar plan, in the
 * cache's `derived/`), and the next build of the same manifest starts packing that plan at once, on its own thread
 * (the large bodies are copied by the kernel; a packing thread would take a tenth of a second to start), while it
 * asks the registries and indexes what the manifest names now. When the build has its own items, it
 * compares them with the plan's, one by one: every header field, every inline body byte for byte, every file body by
 * its digest. All the same, the tarball packed ahead is the bundle (its sha256 remembered with the plan); anything
 * different (a tag moved, a file changed), the packing ahead is stopped and removed, and the build packs what it
 * found. Nothing the build decides is taken from the plan.
 * Bodies the cache does not hold by digest (files the build makes in its work folder) wait for the build's own.
 */
import { stat, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { diskAt } from '../util/disk-space.js';
import { tempSibling } from '../store/atomic.js';
import { itemHead, type TarItem } from './tar-writer.js';
import { pack, type PackItem } from './tar-pack-worker.js';
import type { DerivedMemo } from '../store/content-store.js';

/** Where the plan and a tarball's digest are kept, and where the cache holds a body by its digest. */
export interface PackMemo extends DerivedMemo {
  pathOf(sha256: string): string;
}

interface PlannedItem {
  path: string;
  type: 'File' | 'Directory';
  mode: number;
  size: number;
  sha256?: string;
  /** An inline body, base64. */
  data?: string;
  /** The body was not a cache file: it comes from the build that settles the plan. */
  later?: true;
}

/** What a build packed: its items, and the tarball's sha256 and size. */
export interface TarPlan {
  sha256: string;
  bytes: number;
  items: PlannedItem[];
}

const PLAN = (planKey: string) => `tar-plan-${planKey}`;

/** Remember the tarball just packed from `items`, for the next build with the same `planKey`. */
export async function rememberPlan(memo: PackMemo, planKey: string, items: TarItem[], packed: { sha256: string; bytes: number }): Promise<void> {
  const planned = items.map((i): PlannedItem => {
    const p: PlannedItem = { path: i.path, type: i.type, mode: i.mode, size: i.size };
    if (i.sha256) p.sha256 = i.sha256;
    if (i.data) p.data = i.data.toString('base64');
    else if (i.file && !(i.sha256 && i.file === memo.pathOf(i.sha256))) p.later = true;
    return p;
  });
  const plan: TarPlan = { sha256: packed.sha256, bytes: packed.bytes, items: planned };
  await memo.remember(PLAN(planKey), JSON.stringify(plan));
}

export interface PackedAhead {
  /** The temp file holding the tarball, next to the output. */
  file: string;
  sha256: string;
  bytes: number;
}

export interface PackAhead {
  /**
   * The tarball packed ahead, when `items` are what it packs: the bodies it waits for are taken from `items`, and
   * `onBytes` follows the rest of the packing. Otherwise (or when packing ahead failed) undefined, and nothing of it
   * is left. Never throws: the build packs on its own then, and meets any real failure itself.
   */
  settle(items: TarItem[], onBytes: (n: number) => void): Promise<PackedAhead | undefined>;
  /** Stop and remove what was packed ahead; nothing once it settled. */
  abandon(): Promise<void>;
}

/**
 * Start packing the tarball remembered under `planKey` into a temp file beside `out`, when there is such a plan,
 * every body it takes from the cache is there at its size, and the output's folder has room for it twice.
 */
export async function packAhead(memo: PackMemo, planKey: string, out: string): Promise<PackAhead | undefined> {
  let plan: TarPlan;
  let items: PackItem[];
  try {
    const text = await memo.recall(PLAN(planKey));
    if (!text) return undefined;
    plan = JSON.parse(text) as TarPlan;
    if (!Array.isArray(plan.items) || !/^[0-9a-f]{64}$/.test(String(plan.sha256)) || typeof plan.bytes !== 'number') return undefined;
    // Never made here: a build whose output folder is not there yet creates it itself, where a failure says so.
    if (!(await stat(dirname(out))).isDirectory()) return undefined;
    // Room for it and for packing again, should the build find something else to pack.
    if ((await diskAt(dirname(out))).free < 2 * plan.bytes) return undefined;
    // A plan the cache holds damaged (a header that cannot be, a digest that is none) is no plan.
    items = plan.items.map((i) => {
      const head = itemHead({ path: i.path, type: i.type, mode: i.mode, size: i.size });
      const size = i.type === 'File' ? i.size : 0;
      if (i.data !== undefined) return { head, data: Buffer.from(i.data, 'base64'), size };
      if (i.later) return { head, later: true, size };
      return i.type === 'File' && i.sha256 ? { head, file: memo.pathOf(i.sha256), size } : { head, size };
    });
  } catch {
    return undefined;
  }
  const bodyBytes = items.reduce((n, i) => n + (i.data ? 0 : i.size), 0);
  const tmp = tempSibling(out);
  let stop = false;
  let giveFiles: (files: Record<number, string>) => void = () => {};
  const files = new Promise<Record<number, string>>((resolve) => (giveFiles = resolve));
  let written = 0;
  let onWritten = () => {};
  const packing = pack({ out: tmp, items }, (m) => {
    if ('written' in m) {
      written = m.written;
      onWritten();
    }
  }, { stopped: () => stop, later: () => files });
  // Settled or not, a failure here is no failure of the build: it packs on its own then.
  const result = packing.then((bytes) => bytes, () => undefined);
  let settled = false;
  let gone: Promise<void> | undefined;
  const abandon = () =>
    (gone ??= (async () => {
      stop = true;
      giveFiles({});
      // The body being copied is finished first; then the file is removed.
      await result;
      await rm(tmp, { force: true });
    })());
  return {
    async settle(real, onBytes) {
      if (settled || gone || !samePlan(plan.items, real)) {
        await abandon();
        return undefined;
      }
      const later: Record<number, string> = {};
      items.forEach((i, n) => {
        if (i.later) later[n] = real[n]!.file!;
      });
      giveFiles(later);
      let reported = 0;
      const report = () => {
        const now = Math.min(bodyBytes, written);
        if (now > reported) onBytes(now - reported);
        reported = now;
      };
      onWritten = report;
      report();
      const bytes = await result;
      onWritten = () => {};
      if (bytes !== plan.bytes) {
        await abandon();
        return undefined;
      }
      written = bytes;
      report();
      settled = true;
      return { file: tmp, sha256: plan.sha256, bytes };
    },
    async abandon() {
      if (!settled) await abandon();
    },
  };
}

/**
 * The build's items are the plan's: the same headers, inline bodies byte for byte, file bodies by digest (the plan's
 * cache files are named by theirs; a body it waits for is the build's own file). Pure.
 */
export function samePlan(planned: readonly PlannedItem[], items: readonly TarItem[]): boolean {
  if (planned.length !== items.length) return false;
  return items.every((i, n) => {
    const p = planned[n]!;
    if (p.path !== i.path || p.type !== i.type || p.mode !== i.mode || p.size !== i.size) return false;
    if (i.data) return p.data !== undefined && Buffer.from(p.data, 'base64').equals(i.data);
    if (p.data !== undefined) return false;
    if (i.file) return !!i.sha256 && p.sha256 === i.sha256;
    return i.type === 'Directory' && p.sha256 === undefined && !p.later;
  });
}
