import type { OnProgress, ProgressEvent } from '../progress/events.js';
import { formatBytes, formatStep } from '../progress/format.js';
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
export async function createRenderer(mode: ProgressMode, stream: NodeJS.WriteStream = process.stderr): Promise<Renderer> {
  if (mode === 'quiet') return { onProgress: () => {}, stop: () => {} };
  // The bar library loads only for a terminal: a pipe or a script does not pay for it at every start.
  const inner = mode === 'json' ? jsonRenderer() : mode === 'plain' ? plainRenderer(stream) : (await import('./progress-bars.js')).barRenderer(stream);
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
          stream.write(formatStep(e) + '\n');
          break;
      }
    },
    stop() {},
  };
}
