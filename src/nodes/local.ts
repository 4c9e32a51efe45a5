import { spawn } from 'node:child_process';
import { shq } from './node-error.js';
import { runProc, sudoCommand, UPLOAD_SCRIPT, READ_SCRIPT, type ExecOptions, type ExecResult, type Input, type NodeSession, type Proc } from './session.js';
import { NodeError } from './node-error.js';

/** The `ansible_connection=local` host (the taskbox): the same interface, run with child_process. */
export class LocalSession implements NodeSession {
  constructor(
    readonly name: string,
    private readonly become: { user?: string; password?: string } = {},
  ) {}

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

  async upload(content: Input, path: string, opts: { mode?: number } = {}): Promise<void> {
    await this.sudo(`/bin/sh -c ${shq(UPLOAD_SCRIPT)} sh ${shq(path)} ${(opts.mode ?? 0o644).toString(8)}`, { input: content });
  }

  async readFile(path: string): Promise<Buffer | undefined> {
    const r = await this.sudo(`/bin/sh -c ${shq(READ_SCRIPT)} sh ${shq(path)}`, { allowFail: true });
    if (r.code === 3) return undefined;
    if (r.code !== 0) throw new NodeError(this.name, `cannot read ${path}: ${r.stderr.trim()}`);
    return r.raw;
  }

  async close(): Promise<void> {}
}
