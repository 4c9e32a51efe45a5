import cliProgress from 'cli-progress';
import type { ProgressEvent } from '../progress/events.js';
import { formatBytes, formatStep } from '../progress/format.js';
import type { Renderer } from './progress.js';

/** Artifact bars shown at once under the overall one; more in flight are counted in the overall bar only. */
const SLOTS = 4;

/**
 * Bars redrawn by cli-progress's own timer, ten times a second at most. Artifact bars are a fixed set of slots reused
 * from one artifact to the next: removing a bar forces a redraw, which a build of a thousand small debs would turn
 * into a thousand redraws.
 */
export function barRenderer(stream: NodeJS.WriteStream): Renderer {
  const multi = new cliProgress.MultiBar(
    {
      stream,
      clearOnComplete: true,
      hideCursor: true,
      fps: 10,
      format: '{label} |{bar}| {percentage}% {done}/{size} {speed} ETA {eta_formatted}',
      barsize: 24,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  const overall = multi.create(1, 0, { label: 'overall'.padEnd(28), done: '0 B', size: '?', speed: '' });
  const slots: Array<{ bar: cliProgress.SingleBar; id?: string }> = [];
  const items = new Map<string, { bytes: number; total: number; started: number; tasks: boolean; slot?: (typeof slots)[number] }>();
  let sumTotal = 0;
  let sumDone = 0;
  const started = Date.now();
  const show = (id: string) => {
    const it = items.get(id)!;
    const slot = it.slot;
    if (!slot) return;
    if (it.tasks) {
      slot.bar.setTotal(Math.max(it.total, it.bytes, 1));
      slot.bar.update(it.bytes, { done: `${it.bytes} tasks`, size: it.total ? String(it.total) : '?', speed: '' });
      return;
    }
    const secs = Math.max(0.001, (Date.now() - it.started) / 1000);
    slot.bar.setTotal(Math.max(it.total, 1));
    slot.bar.update(it.bytes, { done: formatBytes(it.bytes), size: it.total ? formatBytes(it.total) : '?', speed: `${formatBytes(it.bytes / secs)}/s` });
  };
  const update = (id: string, bytes: number, total?: number) => {
    const it = items.get(id);
    if (!it) return;
    if (!it.tasks) {
      // A task counter has no size or speed, and is not part of the overall bytes.
      if (total && total !== it.total) sumTotal += total - it.total;
      sumDone += bytes - it.bytes;
      const all = Math.max(0.001, (Date.now() - started) / 1000);
      overall.setTotal(Math.max(sumTotal, 1));
      overall.update(sumDone, { done: formatBytes(sumDone), size: formatBytes(sumTotal), speed: `${formatBytes(sumDone / all)}/s` });
    }
    if (total) it.total = total;
    it.bytes = bytes;
    show(id);
  };
  return {
    onProgress(e: ProgressEvent) {
      switch (e.type) {
        case 'start': {
          const tasks = e.unit === 'tasks';
          let slot = slots.find((s) => s.id === undefined);
          if (!slot && slots.length < SLOTS) slots.push((slot = { bar: multi.create(1, 0, { label: '', done: '', size: '', speed: '' }) }));
          if (slot) {
            slot.id = e.id;
            slot.bar.update(0, { label: e.label.length > 28 ? '…' + e.label.slice(-27) : e.label.padEnd(28) });
          }
          items.set(e.id, { bytes: 0, total: e.total ?? 0, started: Date.now(), tasks, slot });
          if (!tasks) sumTotal += e.total ?? 0;
          show(e.id);
          break;
        }
        case 'advance':
          update(e.id, e.bytes, e.total);
          break;
        case 'done': {
          const it = items.get(e.id);
          if (it) {
            update(e.id, e.bytes, e.bytes);
            if (it.slot) it.slot.id = undefined;
            items.delete(e.id);
          }
          break;
        }
        case 'phase':
        case 'log':
          multi.log(`${e.type === 'log' && e.level === 'warn' ? 'warning: ' : ''}${e.message}\n`);
          break;
        case 'retry':
          multi.log(`retry ${e.id} (try ${e.attempt + 1}): ${e.reason}\n`);
          break;
        case 'step':
          multi.log(formatStep(e) + '\n');
          break;
      }
    },
    stop() {
      multi.stop();
    },
  };
}
