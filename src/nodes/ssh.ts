import { readFileSync, appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import ssh2 from 'ssh2';
import type { ClientChannel, ConnectConfig, ServerHostKeyAlgorithm } from 'ssh2';
import { NodeError } from './node-error.js';
import {
  checkHostKey, fingerprint, keyTypeOfBlob, knownHostsLine, knownKeyTypes, parseKnownHosts, hostKeyName,
} from './known-hosts.js';
import { runProc, sudoCommand, ShellSession, type ExecOptions, type ExecResult, type Proc } from './session.js';

/** How to reach one node over SSH; secrets stay in this object and go only to ssh2 and to sudo's stdin. */
export interface SshTarget {
  name: string;
  host: string;
  port: number;
  user: string;
  password?: string;
  /** Private key text (OpenSSH or PEM); or a file to read it from. */
  privateKey?: string | Buffer;
  privateKeyFile?: string;
  passphrase?: string;
  becomeUser?: string;
  becomePassword?: string;
}

export interface HostKeyPolicy {
  /** OpenSSH known_hosts file (created when a new key is accepted). */
  knownHostsFile: string;
  /** Like ssh's StrictHostKeyChecking=accept-new: an unknown host's key is added; a changed one is still refused. */
  acceptNew: boolean;
}

const ALL_HOST_KEY_ALGOS: ServerHostKeyAlgorithm[] = [
  'ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa',
];

function algosFor(keyType: string): ServerHostKeyAlgorithm[] {
  return keyType === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : ALL_HOST_KEY_ALGOS.filter((a) => a === keyType);
}

export async function connectSsh(t: SshTarget, opts: { hostKeys: HostKeyPolicy; readyTimeoutMs?: number }): Promise<SshSession> {
  const khText = existsSync(opts.hostKeys.knownHostsFile) ? readFileSync(opts.hostKeys.knownHostsFile, 'utf8') : '';
  const entries = parseKnownHosts(khText);
  // Ask for a key type we already know for this host first, as ssh does, so a known host never looks new.
  const preferred = knownKeyTypes(entries, t.host, t.port).flatMap(algosFor);
  const serverHostKey = [...new Set([...preferred, ...ALL_HOST_KEY_ALGOS])];
  const where = `${hostKeyName(t.host, t.port)}`;
  let keyProblem: NodeError | undefined;
  let toAppend: string | undefined;

  const config: ConnectConfig = {
    host: t.host,
    port: t.port,
    username: t.user,
    readyTimeout: opts.readyTimeoutMs ?? 20_000,
    algorithms: { serverHostKey },
    hostVerifier: (blob: Buffer): boolean => {
      const type = keyTypeOfBlob(blob);
      const key = blob.toString('base64');
      const fp = fingerprint(key);
      const st = checkHostKey(entries, t.host, t.port, type, key);
      if (st.status === 'known') return true;
      if (st.status === 'unknown' && opts.hostKeys.acceptNew) {
        toAppend = knownHostsLine(t.host, t.port, type, key);
        return true;
      }
      keyProblem =
        st.status === 'unknown'
          ? new NodeError(t.name, `host key of ${where} is not known: ${type} ${fp}`, {
              hint: `Compare the fingerprint with the node's (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub) and rerun with --accept-new-host-keys, or add it to ${opts.hostKeys.knownHostsFile}.`,
            })
          : st.status === 'changed'
            ? new NodeError(t.name, `host key of ${where} has CHANGED: now ${type} ${fp}, ${opts.hostKeys.knownHostsFile}:${st.line} has another`, {
                hint: 'Someone may be intercepting the connection, or the node was reinstalled. If that is expected, remove the old line.',
              })
            : new NodeError(t.name, `host key of ${where} is revoked (${opts.hostKeys.knownHostsFile}:${st.line}): ${type} ${fp}`);
      return false;
    },
  };
  // An ssh-agent holds the keys the user unlocked with ssh-add; OpenSSH, and so ansible, use it. Here it serves an
  // encrypted key given without a passphrase, and a host whose inventory line names no key and no password.
  const agent = process.env.SSH_AUTH_SOCK || undefined;
  let useAgent = t.privateKey === undefined && t.privateKeyFile === undefined && t.password === undefined;
  if (t.privateKey !== undefined || t.privateKeyFile !== undefined) {
    let key: string | Buffer;
    try {
      key = t.privateKey ?? readFileSync(t.privateKeyFile!);
    } catch (e) {
      throw new NodeError(t.name, `cannot read the private key ${t.privateKeyFile}: ${(e as NodeJS.ErrnoException).code ?? e}`);
    }
    if (t.passphrase === undefined && isEncryptedKey(key)) {
      if (!agent) {
        throw new NodeError(t.name, `the private key ${t.privateKeyFile ?? '(given)'} is encrypted, and no ssh-agent is running`, {
          hint: `Unlock it in an agent and run again from that shell: eval "$(ssh-agent)"; ssh-add ${t.privateKeyFile ?? '<key>'}. ks-bundle and ansible both use SSH_AUTH_SOCK.`,
        });
      }
      useAgent = true;
    } else {
      config.privateKey = key;
      if (t.passphrase !== undefined) config.passphrase = t.passphrase;
    }
  }
  if (useAgent && agent) config.agent = agent;
  if (t.password !== undefined) {
    config.password = t.password;
    config.tryKeyboard = true;
  }

  const client = new ssh2.Client();
  if (t.password !== undefined) {
    client.on('keyboard-interactive', (_n, _i, _l, prompts, finish) => finish(prompts.map(() => t.password!)));
  }
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('error', (e: Error & { level?: string; code?: string }) => {
      if (keyProblem) return reject(keyProblem);
      const method = t.password !== undefined ? 'password' : config.privateKey !== undefined ? 'key' : config.agent ? 'ssh-agent' : 'no key or password given';
      let msg: string;
      if (e.level === 'client-authentication') msg = `authentication failed for ${t.user}@${where} (${method})`;
      else if (e.level === 'client-timeout') msg = `no SSH answer from ${where} within the timeout`;
      else if (e.code === 'ECONNREFUSED') msg = `connection refused by ${where}: is sshd running?`;
      else if (e.code === 'ENETUNREACH' || e.code === 'EHOSTUNREACH') msg = `${where} is unreachable (${e.code})`;
      else msg = `cannot connect to ${where}: ${e.code ?? ''} ${e.message}`.replace(/\s+/g, ' ');
      reject(new NodeError(t.name, msg));
    });
    client.connect(config);
  });
  if (toAppend) {
    mkdirSync(dirname(opts.hostKeys.knownHostsFile), { recursive: true });
    const sep = khText && !khText.endsWith('\n') ? '\n' : '';
    appendFileSync(opts.hostKeys.knownHostsFile, sep + toAppend + '\n', { mode: 0o600 });
  }
  return new SshSession(t, client);
}

export class SshSession extends ShellSession {
  readonly name: string;
  constructor(
    private readonly t: SshTarget,
    private readonly client: ssh2.Client,
  ) {
    super();
    this.name = t.name;
  }

  private start(line: string): Promise<Proc> {
    return new Promise((resolve, reject) => {
      this.client.exec(line, (err, ch: ClientChannel) => {
        if (err) return reject(new NodeError(this.name, `cannot start a command: ${err.message}`));
        let code = 0;
        ch.on('exit', (c: number | null, signal?: string) => {
          code = c ?? (signal ? 128 : 1);
        });
        const exit = new Promise<number>((res) => ch.on('close', () => res(code)));
        resolve({ stdin: ch, stdout: ch, stderr: ch.stderr, exit, kill: () => ch.close() });
      });
    });
  }

  async exec(cmd: string, opts: ExecOptions = {}): Promise<ExecResult> {
    return runProc(this.name, await this.start(cmd), cmd, opts);
  }

  async sudo(cmd: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const user = this.t.becomeUser ?? 'root';
    if (this.t.user === user) return this.exec(cmd, opts);
    const s = sudoCommand(cmd, user);
    return runProc(this.name, await this.start(s.line), cmd, { ...opts, sudo: { ...s, password: this.t.becomePassword } });
  }

  async close(): Promise<void> {
    this.client.end();
  }
}

/** A key ssh2 cannot read without a passphrase. */
function isEncryptedKey(key: string | Buffer): boolean {
  const parsed = ssh2.utils.parseKey(key);
  return parsed instanceof Error && /encrypted|passphrase/i.test(parsed.message);
}
