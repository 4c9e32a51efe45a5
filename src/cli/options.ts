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
  cmd
    .addOption(new Option('--listen <address>', 'address the mirror listens on (0.0.0.0: all of this machine\'s IPv4 addresses)').default('0.0.0.0'))
    .addOption(new Option('--port <n>', 'port the mirror listens on').argParser(port).default(5080));
  return deprecatedAlias(cmd, 'host', 'listen');
}

/** Keep an old spelling of an option working, hidden from --help, with a warning that names the current one. */
export function deprecatedAlias(cmd: Command, old: string, current: string): Command {
  const attribute = current.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  return cmd.addOption(new Option(`--${old} <value>`, `deprecated spelling of --${current}`).hideHelp()).on(`option:${old}`, (value: string) => {
    process.stderr.write(`ks-bundle: --${old} is deprecated; use --${current} (same meaning)\n`);
    cmd.setOptionValueWithSource(attribute, value, 'cli');
  });
}
