import { spawn } from 'node:child_process';

/** Run a command (no shell, stdin closed); resolves with its output and exit code, rejects on failure unless allowFail. */
export function exec(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; allowFail?: boolean } = {}): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const c = code ?? (signal ? 128 : 1);
      if (c !== 0 && !opts.allowFail) reject(new Error(`${cmd} ${args.join(' ')}: exit ${c}\n${stderr.slice(-4000)}`));
      else resolve({ stdout, stderr, code: c });
    });
  });
}
