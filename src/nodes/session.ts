import { randomBytes } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { NodeError, redactSecrets, shq } from './node-error.js';

/**
 * What the installer does on a node, the same over SSH (ssh.ts) and for the `ansible_connection=local` taskbox
 * (local.ts): run a command, run it as root through sudo with the become password, upload, read a file.
 */
export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
  /** stdout as bytes (for files). */
  raw: Buffer;
}

export type Input = string | Buffer | Readable;

export interface ExecOptions {
  input?: Input;
  /** Return a non-zero exit as a result instead of throwing. */
  allowFail?: boolean;
}

export interface NodeSession {
  /** The inventory name, used in every message. */
  readonly name: string;
  exec(cmd: string, opts?: ExecOptions): Promise<ExecResult>;
  /** `cmd` as the become user (root by default) via `sudo -S`, the become password fed on stdin only. */
  sudo(cmd: string, opts?: ExecOptions): Promise<ExecResult>;
  /** Write `content` to `path` as root, atomically (temp file + rename), with `mode` (default 0644). */
  upload(content: Input, path: string, opts?: { mode?: number }): Promise<void>;
  /** The bytes of `path` read as root, or undefined when it does not exist. */
  readFile(path: string): Promise<Buffer | undefined>;
  close(): Promise<void>;
}

/** A started command: the transport (an ssh2 channel or a child process) behind one shape. */
export interface Proc {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  /** Resolves with the exit code (128+n for a signal). */
  exit: Promise<number>;
  kill(): void;
}

/**
 * The sudo command line and its protocol. The command never holds the password: sudo prints a random prompt on
 * stderr and reads one line from stdin; the wrapped shell prints a random "started" mark before it runs the real
 * command, so we know when stdin is the command's (also when sudo asks for nothing: NOPASSWD, root). A second
 * prompt means the password was refused: the command is stopped and the error names the node, never the password.
 */
export function sudoCommand(cmd: string, user: string): { line: string; prompt: string; started: string } {
  const tag = randomBytes(6).toString('hex');
  const prompt = `[ksb-sudo-${tag}]`;
  const started = `[ksb-run-${tag}]`;
  const line =
    `sudo -S -k -p ${shq(prompt)} -u ${shq(user)} -- /bin/sh -c ${shq(`printf %s ${shq(started)} >&2; exec /bin/sh -c "$1"`)} sh ${shq(cmd)}`;
  return { line, prompt, started };
}

export async function runProc(
  node: string,
  proc: Proc,
  cmdForErrors: string,
  opts: ExecOptions & { sudo?: { prompt: string; started: string; password?: string } } = {},
): Promise<ExecResult> {
  const out: Buffer[] = [];
  let err = '';
  let scanned = 0;
  let prompts = 0;
  let started = !opts.sudo;
  let failure: NodeError | undefined;
  const secrets = [opts.sudo?.password];

  const feed = (): void => {
    const input = opts.input;
    if (input === undefined) proc.stdin.end();
    else if (typeof input === 'string' || Buffer.isBuffer(input)) proc.stdin.end(input);
    else input.pipe(proc.stdin);
  };
  proc.stdin.on('error', () => {}); // a command that exits without reading its input is not our failure
  proc.stdout.on('data', (d: Buffer) => out.push(d));
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d: string) => {
    err += d;
    if (started || !opts.sudo) return;
    const s = opts.sudo;
    for (;;) {
      const p = err.indexOf(s.prompt, scanned);
      const r = err.indexOf(s.started, scanned);
      if (r >= 0 && (p < 0 || r < p)) {
        err = err.slice(0, r) + err.slice(r + s.started.length);
        scanned = r;
        started = true;
        feed();
        return;
      }
      if (p < 0) return;
      err = err.slice(0, p) + err.slice(p + s.prompt.length);
      scanned = p;
      prompts++;
      if (prompts === 1 && s.password !== undefined) {
        proc.stdin.write(s.password + '\n');
      } else {
        failure = new NodeError(
          node,
          s.password === undefined
            ? 'sudo asks for a password and the inventory gives no become password (ansible_become_pass)'
            : 'sudo refused the become password (ansible_become_pass)',
          { hint: 'Check ansible_become_pass for this host in the inventory.' },
        );
        proc.kill();
        return;
      }
    }
  });
  if (started) feed();
  const code = await proc.exit;
  if (failure) throw failure;
  const raw = Buffer.concat(out);
  const stdout = raw.toString('utf8');
  const stderr = redactSecrets(err.replace(/^Sorry, try again\.\n/gm, ''), secrets);
  if (opts.sudo && !started) {
    throw new NodeError(node, `sudo failed: ${stderr.trim() || `exit ${code}`}`, { hint: 'Check that the user may use sudo.' });
  }
  if (code !== 0 && !opts.allowFail) {
    throw new NodeError(node, `command failed (exit ${code}): ${redactSecrets(cmdForErrors, secrets)}\n${stderr.trim().slice(-2000)}`);
  }
  return { stdout, stderr, code, raw };
}

/** Shell for an atomic root-owned write of stdin to $1 with mode $2. */
export const UPLOAD_SCRIPT =
  'set -e; d=$(dirname "$1"); mkdir -p "$d"; t="$1.ks-bundle.tmp.$$"; trap \'rm -f "$t"\' EXIT; ' +
  'cat > "$t"; chmod "$2" "$t"; mv -f "$t" "$1"; trap - EXIT';

/** Shell that prints a file's bytes, or exits 3 when it is absent. */
export const READ_SCRIPT = 'if [ -e "$1" ]; then exec cat -- "$1"; else exit 3; fi';

/** upload and readFile, the same for every transport: both are small scripts run through `sudo`. */
export abstract class ShellSession implements NodeSession {
  abstract readonly name: string;
  abstract exec(cmd: string, opts?: ExecOptions): Promise<ExecResult>;
  abstract sudo(cmd: string, opts?: ExecOptions): Promise<ExecResult>;
  abstract close(): Promise<void>;

  async upload(content: Input, path: string, opts: { mode?: number } = {}): Promise<void> {
    await this.sudo(`/bin/sh -c ${shq(UPLOAD_SCRIPT)} sh ${shq(path)} ${(opts.mode ?? 0o644).toString(8)}`, { input: content });
  }

  async readFile(path: string): Promise<Buffer | undefined> {
    const r = await this.sudo(`/bin/sh -c ${shq(READ_SCRIPT)} sh ${shq(path)}`, { allowFail: true });
    if (r.code === 3) return undefined;
    if (r.code !== 0) throw new NodeError(this.name, `cannot read ${path}: ${r.stderr.trim()}`);
    return r.raw;
  }
}
