import { spawn, type ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { CLI } from '../support/cli.js';
import { testMeta } from '../support/bundle-meta.js';
import { stopProcess } from '../images/support.js';

export interface ServedCli {
  url: string;
  proc: ChildProcess;
  stderr(): string;
  stop(): Promise<void>;
}

/** `ks-bundle serve <args>` as the installer runs it (the built CLI), until it says where it listens. */
export async function serveCli(args: string[]): Promise<ServedCli> {
  const proc = spawn(process.execPath, [CLI, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stderr!.on('data', (d) => (err += d));
  const url = await new Promise<string>((resolve, reject) => {
    proc.stdout!.on('data', (d) => {
      out += d;
      const m = /here at (http:\/\/\S+?)\/ /.exec(out);
      if (m) resolve(m[1]!);
    });
    proc.once('exit', (code) => reject(new Error(`ks-bundle serve ${args.join(' ')} exited ${code}: ${err}`)));
  });
  return { url, proc, stderr: () => err, stop: () => stopProcess(proc) };
}

/** curl as a user runs it: `--path-as-is` sends `..` as written. Status code and body. */
export async function curl(url: string, ...extra: string[]): Promise<{ status: number; body: string }> {
  const { stdout } = await promisify(execFile)('curl', ['-s', '--path-as-is', '-m', '60', '-w', '\n%{http_code}', ...extra, url], { maxBuffer: 64 << 20 });
  const i = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(i + 1)), body: stdout.slice(0, i) };
}

/** A bundle.yaml that `serve --no-verify` reads for a hand-made bundle folder (its SHA256SUMS is never checked). */
export function writeTestMeta(dir: string, name: string): void {
  writeFileSync(join(dir, 'bundle.yaml'), yaml.dump({ ...testMeta(name, '1'), sha256sums: '0'.repeat(64) }));
}
