/**
 * A private containerd (its own root, state and socket in a temp folder; no CRI plugin) wired to pull `registry`'s
 * images through `mirrorUrl` as a node is: `certs.d/<registry>/hosts.toml` with the mirror as `server`, so a miss on
 * the mirror fails instead of going upstream. `ctr` runs with that socket; pass `hostsDir` to `ctr images pull`.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { stopProcess } from '../images/support.js';

export interface PrivateContainerd {
  hostsDir: string;
  ctr(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

export async function startContainerd(dir: string, registry: string, mirrorUrl: string): Promise<PrivateContainerd> {
  const hostsDir = join(dir, 'certs.d');
  mkdirSync(join(hostsDir, registry), { recursive: true });
  const sock = join(dir, 'c.sock');
  writeFileSync(
    join(dir, 'config.toml'),
    `version = 2\nroot = "${dir}/root"\nstate = "${dir}/state"\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n[grpc]\n  address = "${sock}"\n[ttrpc]\n  address = "${sock}.ttrpc"\n[metrics]\n  address = ""\n`,
  );
  writeFileSync(join(hostsDir, registry, 'hosts.toml'), `server = "${mirrorUrl}"\n\n[host."${mirrorUrl}"]\n  capabilities = ["pull", "resolve"]\n`);
  const proc = spawn('containerd', ['--config', join(dir, 'config.toml')], { stdio: 'ignore' });
  for (let i = 0; !existsSync(sock); i++) {
    if (proc.exitCode !== null || i > 400) {
      await stopProcess(proc);
      throw new Error('containerd did not start');
    }
    await sleep(50);
  }
  return {
    hostsDir,
    // Async: the mirror may run in the test's own process, so a client started synchronously would deadlock on it.
    ctr: async (...args) => (await promisify(execFile)('ctr', ['-a', sock, ...args])).stdout,
    stop: () => stopProcess(proc),
  };
}
