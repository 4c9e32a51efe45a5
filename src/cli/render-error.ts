import { KsBundleError } from '../errors.js';
import { safeForTerminal } from '../text/terminal.js';

/** One readable message and an exit code; a stack trace only with KS_BUNDLE_DEBUG=1. */
export function renderError(err: unknown, stream: NodeJS.WriteStream = process.stderr): number {
  if (err instanceof KsBundleError) {
    stream.write(`error: ${safeForTerminal(err.message)}\n`);
    if (err.hint) stream.write(`hint: ${safeForTerminal(err.hint)}\n`);
    if (process.env.KS_BUNDLE_DEBUG && err.stack) stream.write(safeForTerminal(err.stack) + '\n');
    return err.exitCode;
  }
  const e = err as { code?: string; message?: string; stack?: string };
  if (e?.code === 'commander.helpDisplayed' || e?.code === 'commander.version') return 0;
  if (typeof e?.code === 'string' && e.code.startsWith('commander.')) return 2;
  stream.write(`error: ${safeForTerminal(e?.message ?? String(err))}\n`);
  stream.write(process.env.KS_BUNDLE_DEBUG && e?.stack ? safeForTerminal(e.stack) + '\n' : 'hint: this is unexpected; rerun with KS_BUNDLE_DEBUG=1 for details and report it.\n');
  return 1;
}
