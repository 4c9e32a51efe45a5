import type { ProgressEvent } from '../progress/events.js';
import type { Renderer } from './progress.js';

/** Progress lines a second at most, besides one line per finished artifact and the rare phase, retry and log lines. */
const TICKS_PER_SECOND = 10;

/**
 * JSON lines for a pipe: every `done` (with its label), `phase`, `retry` and `log` as it happens, and at most ten
 * `progress` lines a second, each a snapshot of what is in flight. A download hands over a chunk every few KiB; one
 * line each would be thousands of lines a second that nobody reads.
 */
export function jsonRenderer(write: (line: string) => void = (line) => void process.stdout.write(line)): Renderer {
  const active = new Map<string, { label: string; bytes: number; total?: number; unit?: 'bytes' | 'tasks' }>();
  let changed = false;
  let timer: NodeJS.Timeout | undefined;
  const emit = (o: object) => write(JSON.stringify(o) + '\n');
  const tick = () => {
    if (!changed) {
      timer = undefined;
      return;
    }
    changed = false;
    emit({ event: 'progress', active: [...active].map(([id, a]) => ({ id, ...a })) });
    timer = setTimeout(tick, 1000 / TICKS_PER_SECOND);
    timer.unref();
  };
  const touch = () => {
    changed = true;
    if (!timer) {
      timer = setTimeout(tick, 1000 / TICKS_PER_SECOND);
      timer.unref();
    }
  };
  return {
    onProgress(e: ProgressEvent) {
      switch (e.type) {
        case 'start':
          active.set(e.id, { label: e.label, bytes: 0, total: e.total, ...(e.unit ? { unit: e.unit } : {}) });
          touch();
          break;
        case 'advance': {
          const a = active.get(e.id);
          if (a) {
            a.bytes = e.bytes;
            if (e.total !== undefined) a.total = e.total;
            touch();
          }
          break;
        }
        case 'done': {
          const label = active.get(e.id)?.label;
          active.delete(e.id);
          emit({ event: 'done', ...e, ...(label ? { label } : {}) });
          break;
        }
        default:
          emit({ event: e.type, ...e });
      }
    },
    stop() {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
