import { spawn } from 'node:child_process';
import { runProc, sudoCommand, ShellSession, type ExecOptions, type ExecResult, type Proc } from './session.js';

/** The `ansible_connection=local` host (the taskbox): the same interface, run with child_process. */
export class LocalSession extends ShellSession {
  constructor(
    readonly name: string,
    private readonly become: { user?: string; password?: string } = {},
  ) {
    super();
  }

  private start(line: string): Proc {
    const child = spawn('/bin/sh', ['-c', line], { stdio: ['pipe', 'pipe', 'pipe'] });
    const exit = new Promise<number>((resolve) => {
      child.on('error', () => resolve(127));
      child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    });
    return { stdin: child.stdin, stdout: child.stdout, stderr: child.stderr, exit, kill: () => child.kill('SIGTERM') };
  }

  exec(cmd: string, opts: ExecOptions = {}): Promise<ExecResult> {
    return runProc(this.name, this.start(cmd), cmd, opts);
  }

  sudo(cmd: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const user = this.become.user ?? 'root';
    if (user === 'root' && process.getuid?.() === 0) return this.exec(cmd, opts);
    const s = sudoCommand(cmd, user);
    return runProc(this.name, this.start(s.line), cmd, { ...opts, sudo: { ...s, password: this.become.password } });
  }

  async close(): Promise<void> {}
}
