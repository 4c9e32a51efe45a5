import { spawn, type SpawnOptions } from 'node:child_process';

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Run a command without a shell; reject with its stderr when it fails (unless `allowFail`). */
export function run(
  cmd: string,
  args: string[],
  opts: { input?: string; allowFail?: boolean; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const so: SpawnOptions = { stdio: ['pipe', 'pipe', 'pipe'], env: opts.env ?? process.env, cwd: opts.cwd };
    const child = spawn(cmd, args, so);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const c = code ?? (signal ? 128 : 1);
      if (c !== 0 && !opts.allowFail) {
        reject(new Error(`${cmd} ${args.join(' ')}: exit ${c}${signal ? ` (${signal})` : ''}\n${stderr.slice(-4000)}`));
      } else resolve({ stdout, stderr, code: c });
    });
    // A child that exits before reading its input must not take the test down with an EPIPE.
    child.stdin!.on('error', () => {});
    child.stdin!.end(opts.input ?? '');
  });
}
