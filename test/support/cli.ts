import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '..', '..');
export const CLI = join(REPO, 'dist', 'cli', 'main.js');
export const CLI_BUNDLED = join(REPO, 'dist', 'ks-bundle.mjs');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the built CLI as a user would, with its real exit code and output. */
export function runCli(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; bundled?: boolean; onChild?: (child: ChildProcess) => void; wrap?: string[] } = {}): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    // `wrap` runs the CLI under another command (a private mount namespace, say): wrap[0] wrap[1..] node cli args.
    const argv = [process.execPath, opts.bundled ? CLI_BUNDLED : CLI, ...args];
    const [cmd, ...rest] = opts.wrap?.length ? [...opts.wrap, ...argv] : argv;
    const child = spawn(cmd!, rest, {
      cwd: opts.cwd ?? REPO,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    opts.onChild?.(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}
