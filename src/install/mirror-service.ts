import { spawn } from 'node:child_process';
import { existsSync, openSync } from 'node:fs';
import { chmod, mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { KsBundleError } from '../errors.js';
import { writeFileAtomic } from '../store/atomic.js';
import { localUrl } from '../mirror/address.js';
import { SERVES_HEADER } from '../mirror/server.js';

export interface MirrorService {
  /** How the nodes reach it (the advertised address). */
  url: string;
  /** How this machine reaches it: the address it listens on (loopback for 0.0.0.0). */
  localUrl: string;
  pid?: number;
  how: 'systemd' | 'process' | 'already running';
  logDir: string;
}

const UNIT = 'ks-bundle-mirror';

/**
 * The mirror as a background service on the taskbox: a systemd unit where systemd runs, else a detached process
 * with a pid file. A mirror already answering /healthz for this bundle is kept; one serving another bundle (the
 * release before, after an upgrade or a delta) is stopped and replaced.
 */
export async function startMirrorService(opts: {
  bundleDir: string;
  /** The bundle's root digest, which its mirror names on /healthz. */
  serves: string;
  stateDir: string;
  listen: string;
  port: number;
  advertise: string;
  /** How to run ks-bundle: this very program by default. */
  command?: string[];
  /** As a systemd unit: by default where systemd runs. */
  systemd?: boolean;
}): Promise<MirrorService> {
  const url = `http://${opts.advertise}:${opts.port}`;
  const local = localUrl(opts.listen, opts.port);
  const logDir = join(opts.stateDir, 'logs');
  // The logs name every client and path: only root reads them.
  await mkdir(logDir, { recursive: true, mode: 0o700 });
  await chmod(logDir, 0o700);
  const pidFile = join(opts.stateDir, 'mirror.pid');
  if (await healthy(local, opts.serves)) {
    const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim()) || undefined;
    return { url, localUrl: local, pid, how: 'already running', logDir };
  }
  if (await healthy(local)) await stopOtherMirror(opts.stateDir, local, opts.systemd);
  const [node, ...cli] = opts.command ?? [process.execPath, process.argv[1]!];
  const args = [...cli, 'serve', opts.bundleDir, '--no-verify', '--listen', opts.listen, '--port', String(opts.port), '--log-dir', logDir, '--pid-file', pidFile];
  if (opts.systemd ?? existsSync('/run/systemd/system')) {
    const unit = [
      '[Unit]',
      'Description=ks-bundle offline mirror (read-only apt, pip, registry and files from the bundle)',
      'After=network-online.target',
      '',
      '[Service]',
      `ExecStart=${[node, ...args].map((a) => (/\s/.test(a) ? `"${a}"` : a)).join(' ')}`,
      'Restart=on-failure',
      '',
      '[Install]',
      'WantedBy=multi-user.target',
      '',
    ].join('\n');
    await writeFileAtomic(`/etc/systemd/system/${UNIT}.service`, unit);
    await promisify(execFile)('systemctl', ['daemon-reload']);
    await promisify(execFile)('systemctl', ['enable', `${UNIT}.service`]);
    await promisify(execFile)('systemctl', ['restart', `${UNIT}.service`]);
    await waitHealthy(local, join(logDir, 'mirror.log'));
    return { url, localUrl: local, how: 'systemd', logDir };
  }
  const log = openSync(join(logDir, 'mirror.log'), 'a', 0o600);
  const child = spawn(node!, args, { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  await waitHealthy(local, join(logDir, 'mirror.log'), child.pid);
  return { url, localUrl: local, pid: child.pid, how: 'process', logDir };
}

export async function stopMirrorService(stateDir: string): Promise<void> {
  if (existsSync(`/etc/systemd/system/${UNIT}.service`) && existsSync('/run/systemd/system')) {
    await promisify(execFile)('systemctl', ['disable', '--now', `${UNIT}.service`]).catch(() => {});
    return;
  }
  const pidFile = join(stateDir, 'mirror.pid');
  const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
  if (pid > 0) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  await rm(pidFile, { force: true });
}

/** A mirror answers on `base` (serving the bundle whose root digest is `serves`, when given). */
export async function healthy(base: string, serves?: string): Promise<boolean> {
  try {
    const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2000) });
    await res.body?.cancel();
    return res.ok && (serves === undefined || res.headers.get(SERVES_HEADER) === serves);
  } catch {
    return false;
  }
}

/**
 * The mirror of another bundle holds the port: the systemd unit is rewritten and restarted by the caller; a process
 * an earlier install started is found by the pid file in its state folder (a sibling of `stateDir`), checked to be a
 * ks-bundle mirror, and stopped. Anything else on the port is not ours to stop.
 */
async function stopOtherMirror(stateDir: string, local: string, systemd: boolean | undefined): Promise<void> {
  if (systemd ?? existsSync('/run/systemd/system')) return;
  const root = dirname(stateDir);
  for (const id of await readdir(root).catch(() => [] as string[])) {
    const pid = Number((await readFile(join(root, id, 'mirror.pid'), 'utf8').catch(() => '')).trim());
    const cmdline = pid > 0 ? await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '') : '';
    if (!cmdline.split('\0').includes('serve')) continue;
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 50 && alive(pid); i++) await sleep(100);
    await rm(join(root, id, 'mirror.pid'), { force: true });
  }
  if (await healthy(local)) {
    throw new KsBundleError('FAILED', `${local} answers as a mirror of another bundle, and no mirror an earlier install started is running there`, {
      hint: 'Stop what listens on that port (ks-bundle serve started by hand?), or give the install another --port.',
    });
  }
}

async function waitHealthy(base: string, log: string, pid?: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await healthy(base)) return;
    if (pid && !alive(pid)) break;
    await sleep(100);
  }
  const tail = (await readFile(log, 'utf8').catch(() => '')).split('\n').slice(-5).join('\n');
  throw new KsBundleError('FAILED', `the mirror did not come up on ${base}`, { hint: `Its log (${log}) ends with:\n${tail}` });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
