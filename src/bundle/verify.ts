import { stat, readFile, rm, rename, mkdir } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { IntegrityError, InputError } from '../errors.js';
import type { OnProgress } from '../progress/events.js';
import { tempSibling, writeFileAtomic } from '../store/atomic.js';
import yaml from 'js-yaml';
import { BUNDLE_YAML, FORMAT_VERSION, UNPACKED_MARKER, isUserEditable } from './layout.js';
import { peekFiles } from './peek.js';
import { readBundleDir } from './read-dir.js';
import { readBundleTar, type BundleReadResult } from './read.js';
import type { VerifyProblem } from './compare.js';
import { openByteSource, tapSource } from '../parts/source.js';

export interface VerifyReport extends BundleReadResult {
  ok: boolean;
  /** Files the check skipped on purpose (the user's conf/). */
  skipped: string[];
}

export interface VerifyOptions {
  onProgress?: OnProgress;
  keep?: (rel: string) => boolean;
  /** Sees every byte of the tarball in the same read (a signature check); a folder has no tarball bytes. */
  tap?: (chunk: Buffer) => void | Promise<void>;
}

/** Verify a bundle tarball (.tar, .tar.gz), a split one (its .parts file) or an unpacked bundle folder. */
export async function verifyBundle(path: string, opts: VerifyOptions = {}): Promise<VerifyReport> {
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch {
    throw new InputError(`${path}: no such bundle`, { hint: 'Give a bundle tarball (.tar, .tar.gz), its .parts file, or an unpacked bundle folder.' });
  }
  if (isDir && opts.tap) throw new InputError(`${path}: an unpacked folder has no signature to check`, { hint: 'The signature covers the tarball: verify the .tar (or its .parts) with --key.' });
  if (isDir) return finish(await readBundleDir(path, opts));
  const source = await openByteSource(path);
  return finish(await readBundleTar(opts.tap ? tapSource(source, opts.tap) : source, opts));
}

function finish(read: BundleReadResult): VerifyReport {
  const problems: VerifyProblem[] = [...read.problems];
  const fv = read.meta?.formatVersion;
  if (read.meta && fv !== FORMAT_VERSION) {
    problems.push({ kind: 'bad-entry', path: 'bundle.yaml', message: `format version ${fv ?? 'missing'}; this ks-bundle reads version ${FORMAT_VERSION}` });
  }
  const skipped = [...read.digests.keys()].filter(isUserEditable).sort();
  return { ...read, problems, ok: problems.length === 0, skipped };
}

export function integrityError(where: string, problems: VerifyProblem[]): IntegrityError {
  const lines = problems.slice(0, 50).map((p) => `  ${p.kind}: ${p.path}: ${p.message}`);
  if (problems.length > 50) lines.push(`  … and ${problems.length - 50} more`);
  return new IntegrityError(`${where}: ${problems.length} integrity problem${problems.length === 1 ? '' : 's'}\n${lines.join('\n')}`, {
    hint: 'Copy the bundle again from its source and compare it with its .sha256 file; nothing was installed.',
  });
}

/**
 * Verify and unpack in one pass into `dest`. Files go to a temp folder beside it that is renamed only when every
 * byte matched, so a failed unpack leaves nothing that looks complete. A folder already unpacked from a bundle with
 * the same SHA256SUMS is kept: the tarball is still verified, but nothing is written again.
 */
export async function unpackBundle(tarball: string, dest: string, opts: { onProgress?: OnProgress } = {}): Promise<{ report: VerifyReport; reused: boolean }> {
  const existing = (await readFile(join(dest, UNPACKED_MARKER), 'utf8').catch(() => ''))?.trim();
  const claimed = existing ? sumsClaimedBy((await peekFiles(tarball, [BUNDLE_YAML])).get(BUNDLE_YAML)) : undefined;
  if (existing && claimed === existing) {
    const report = finish(await readBundleTar(tarball, opts));
    if (!report.ok) throw integrityError(tarball, report.problems);
    if (String(report.meta?.sha256sums) === existing) return { report, reused: true };
  }
  await mkdir(dirname(dest), { recursive: true });
  const tmp = tempSibling(dest);
  await mkdir(tmp, { recursive: true });
  try {
    const report = finish(await readBundleTar(tarball, { ...opts, extractTo: tmp }));
    if (!report.ok) throw integrityError(tarball, report.problems);
    await writeFileAtomic(join(tmp, UNPACKED_MARKER), String(report.meta?.sha256sums ?? '') + '\n');
    await rm(dest, { recursive: true, force: true });
    await rename(tmp, dest);
    return { report, reused: false };
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}

function sumsClaimedBy(bundleYaml: string | undefined): string | undefined {
  try {
    return String((yaml.load(bundleYaml ?? '', { schema: yaml.CORE_SCHEMA }) as { sha256sums?: string })?.sha256sums ?? '') || undefined;
  } catch {
    return undefined;
  }
}
