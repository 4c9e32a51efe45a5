import cliProgress from 'cli-progress';
import type { OnProgress, ProgressEvent } from '../progress/events.js';
import { formatBytes } from '../progress/format.js';
import { safeForTerminal } from '../text/terminal.js';
import { jsonRenderer } from './progress-json.js';

export type ProgressMode = 'tty' | 'plain' | 'json' | 'quiet';

export function progressMode(json: boolean, stream: NodeJS.WriteStream = process.stderr): ProgressMode {
  if (json) return 'json';
  return stream.isTTY ? 'tty' : 'plain';
}

export interface Renderer {
  onProgress: OnProgress;
  stop(): void;
}

/**
 * Bars on a TTY (one per artifact in flight and one overall), plain lines otherwise, JSON lines with --json. Every
 * text field of an event passes `safeForTerminal` first: labels and reasons carry names and URLs from upstreams.
 */
export function createRenderer(mode: ProgressMode, stream: NodeJS.WriteStream = process.stderr): Renderer {
  if (mode === 'quiet') return { onProgress: () => {}, stop: () => {} };
  const inner = mode === 'json' ? jsonRenderer() : mode === 'plain' ? plainRenderer(stream) : barRenderer(stream);
  return { onProgress: (e) => inner.onProgress(sanitized(e)), stop: () => inner.stop() };
}

function sanitized(e: ProgressEvent): ProgressEvent {
  return Object.fromEntries(Object.entries(e).map(([k, v]) => [k, typeof v === 'string' ? safeForTerminal(v) : v])) as ProgressEvent;
}

function plainRenderer(stream: NodeJS.WriteStream): Renderer {
  const labels = new Map<string, string>();
  const taskCounts = new Set<string>();
  const amount = (id: string, n: number) => (taskCounts.has(id) ? `${n} task${n === 1 ? '' : 's'}` : formatBytes(n));
  return {
    onProgress(e: ProgressEvent) {
      switch (e.type) {
        case 'phase':
          stream.write(`== ${e.message}\n`);
          break;
        case 'start':
          labels.set(e.id, e.label);
          if (e.unit === 'tasks') taskCounts.add(e.id);
          break;
        case 'done':
          stream.write(`${e.cached ? 'cached ' : 'done   '} ${labels.get(e.id) ?? e.id} (${amount(e.id, e.bytes)})\n`);
          break;
        case 'retry':
          stream.write(`retry   ${labels.get(e.id) ?? e.id} (try ${e.attempt + 1}): ${e.reason}\n`);
          break;
        case 'log':
          stream.write(`${e.level === 'warn' ? 'warning: ' : ''}${e.message}\n`);
          break;
        case 'step':
          stream.write(stepLine(e) + '\n');
          break;
      }
    },
    stop() {},
  };
}

/** Artifact bars shown at once under the overall one; more in flight are counted in the overall bar only. */
const SLOTS = 4;

/**
 * Bars redrawn by cli-progress's own timer, ten times a second at most. Artifact bars are a fixed set of slots reused
 * from one artifact to the next: removing a bar forces a redraw, which a build of a thousand small debs would turn
 * into a thousand redraws.
 */
function barRenderer(stream: NodeJS.WriteStream): Renderer {
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
          multi.log(stepLine(e) + '\n');
          break;
      }
    },
    stop() {
      multi.stop();
    },
  };
}

/** `[3/9] mirror: done (running, pid 42)` */
function stepLine(e: Extract<ProgressEvent, { type: 'step' }>): string {
  return `[${e.index}/${e.total}] ${e.title}: ${e.status}${e.detail ? ` (${e.detail})` : ''}`;
}
