import { homedir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';

export function defaultCacheDir(): string {
  return process.env.KS_BUNDLE_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'ks-bundle');
}

/** Where a bundle tarball is unpacked and an install keeps its state. */
export function defaultDataDir(): string {
  return process.getuid?.() === 0 ? '/var/lib/ks-bundle' : join(process.env.HOME ?? '.', '.local', 'share', 'ks-bundle');
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of 1 or more');
  return n;
}

export function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number (0-65535)');
  return n;
}

/**
 * `--listen <address>` and `--port <n>`: where a mirror listens, spelled the same on every command that starts one.
 * `--host`, the old spelling of `serve`, still works, hidden, with a warning.
 */
export function addListenOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--listen <address>', 'address the mirror listens on (0.0.0.0: all of this machine\'s IPv4 addresses)').default('0.0.0.0'))
    .addOption(new Option('--port <n>', 'port the mirror listens on').argParser(port).default(5080))
    .addOption(new Option('--host <address>', 'deprecated spelling of --listen').hideHelp())
    .on('option:host', (value: string) => {
      process.stderr.write('ks-bundle: --host is deprecated; use --listen (same meaning)\n');
      cmd.setOptionValueWithSource('listen', value, 'cli');
    });
}
