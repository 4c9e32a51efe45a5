import cliProgress from 'cli-progress';
import type { OnProgress, ProgressEvent } from '../progress/events.js';
import { formatBytes } from '../progress/format.js';
import { safeForTerminal } from '../text/terminal.js';

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

function jsonRenderer(): Renderer {
  return { onProgress: (e) => void process.stdout.write(JSON.stringify({ event: e.type, ...e }) + '\n'), stop: () => {} };
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
      }
    },
    stop() {},
  };
}

function barRenderer(stream: NodeJS.WriteStream): Renderer {
  const multi = new cliProgress.MultiBar(
    {
      stream,
      clearOnComplete: true,
      hideCursor: true,
      format: '{label} |{bar}| {percentage}% {done}/{size} {speed} ETA {eta_formatted}',
      barsize: 24,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  const overall = multi.create(1, 0, { label: 'overall'.padEnd(28), done: '0 B', size: '?', speed: '' });
  const bars = new Map<string, { bar: cliProgress.SingleBar; bytes: number; total: number; started: number; label: string; tasks: boolean }>();
  let sumTotal = 0;
  let sumDone = 0;
  const started = Date.now();
  const update = (id: string, bytes: number, total?: number) => {
    const b = bars.get(id);
    if (!b) return;
    if (b.tasks) {
      // A task counter has no size or speed, and is not part of the overall bytes.
      b.bytes = bytes;
      b.bar.setTotal(Math.max(total ?? b.total, bytes, 1));
      b.bar.update(bytes, { done: `${bytes} tasks`, size: total ? String(total) : '?', speed: '' });
      return;
    }
    if (total && total !== b.total) {
      sumTotal += total - b.total;
      b.total = total;
      b.bar.setTotal(total);
    }
    sumDone += bytes - b.bytes;
    b.bytes = bytes;
    const secs = Math.max(0.001, (Date.now() - b.started) / 1000);
    b.bar.update(bytes, { done: formatBytes(bytes), size: b.total ? formatBytes(b.total) : '?', speed: `${formatBytes(bytes / secs)}/s` });
    const all = Math.max(0.001, (Date.now() - started) / 1000);
    overall.setTotal(Math.max(sumTotal, 1));
    overall.update(sumDone, { done: formatBytes(sumDone), size: formatBytes(sumTotal), speed: `${formatBytes(sumDone / all)}/s` });
  };
  return {
    onProgress(e: ProgressEvent) {
      switch (e.type) {
        case 'start': {
          const label = e.label.length > 28 ? '…' + e.label.slice(-27) : e.label.padEnd(28);
          const bar = multi.create(e.total ?? 1, 0, { label, done: '0 B', size: e.total ? formatBytes(e.total) : '?', speed: '' });
          const tasks = e.unit === 'tasks';
          bars.set(e.id, { bar, bytes: 0, total: e.total ?? 0, started: Date.now(), label, tasks });
          if (!tasks) sumTotal += e.total ?? 0;
          break;
        }
        case 'advance':
          update(e.id, e.bytes, e.total);
          break;
        case 'done': {
          const b = bars.get(e.id);
          if (b) {
            update(e.id, e.bytes, e.bytes);
            multi.remove(b.bar);
            bars.delete(e.id);
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
      }
    },
    stop() {
      multi.stop();
    },
  };
}
