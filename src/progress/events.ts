/**
 * Core code reports progress as events; cli/progress.ts renders them (bars on a TTY, plain lines otherwise,
 * JSON lines with --json). Core code never prints.
 */
export type ProgressEvent =
  | { type: 'phase'; phase: string; message: string }
  | { type: 'start'; id: string; label: string; total?: number; /** What `bytes` counts: bytes (default) or tasks. */ unit?: 'bytes' | 'tasks' }
  | { type: 'advance'; id: string; bytes: number; total?: number }
  | { type: 'done'; id: string; bytes: number; cached: boolean }
  | { type: 'retry'; id: string; attempt: number; reason: string }
  | { type: 'log'; level: 'info' | 'warn'; message: string }
  /** One step of an install: `index` of `total`, 1-based. */
  | { type: 'step'; id: string; title: string; index: number; total: number; status: StepStatus; detail?: string };

export type StepStatus = 'running' | 'done' | 'skipped' | 'failed';

export type OnProgress = (event: ProgressEvent) => void;

export const noProgress: OnProgress = () => {};
