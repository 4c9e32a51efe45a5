import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Parser, type ReadEntry } from 'tar';
import type { OnProgress } from '../progress/events.js';
import { noProgress } from '../progress/events.js';
import { READ_CHUNK, newSha256 } from '../store/hashing.js';
import { BUNDLE_YAML, SUMS } from './layout.js';
import { compareWithSums, type BundleMeta, type VerifyProblem } from './compare.js';
import { checkEntryPath, linkTargetInside } from './entry-path.js';

export interface BundleReadResult {
  problems: VerifyProblem[];
  meta?: BundleMeta;
  /** The single top folder of the archive. */
  top?: string;
  files: number;
  bytes: number;
  /** Regular files' digests, by path under the top folder. */
  digests: Map<string, string>;
}

export interface ReadOptions {
  onProgress?: OnProgress;
  /** Write every regular file under this folder as it streams (safe unpack); paths are checked first. */
  extractTo?: string;
}

const SMALL_TEXT = new Set([BUNDLE_YAML, SUMS]);

/**
 * Stream a bundle tarball (plain or gzip) once: check every entry's path, hash every file, optionally write it,
 * then compare with SHA256SUMS and bundle.yaml. Never unpacks anything that escapes `extractTo`, never buffers a file
 * (bundle.yaml and SHA256SUMS are kept: they are the bundle's own index).
 */
export async function readBundleTar(file: string, opts: ReadOptions = {}): Promise<BundleReadResult> {
  const onProgress = opts.onProgress ?? noProgress;
  const total = (await stat(file)).size;
  const problems: VerifyProblem[] = [];
  const digests = new Map<string, string>();
  const texts: { sums?: string; bundleYaml?: string } = {};
  let top: string | undefined;
  let files = 0;
  let bytes = 0;
  let read = 0;
  const pending: Promise<void>[] = [];

  const parser = new Parser({ strict: true });
  parser.on('entry', (entry: ReadEntry) => {
    const verdict = checkEntryPath(entry.path);
    if (!verdict.ok) {
      problems.push({ kind: 'unsafe-path', path: entry.path, message: verdict.reason });
      entry.resume();
      return;
    }
    if (top === undefined) top = verdict.top;
    else if (verdict.top !== top) {
      problems.push({ kind: 'unsafe-path', path: entry.path, message: `outside the bundle's top folder ${top}/` });
      entry.resume();
      return;
    }
    const rel = verdict.rel;
    if (entry.type === 'Directory') {
      entry.resume();
      return;
    }
    if (entry.type === 'SymbolicLink' || entry.type === 'Link') {
      const inside = linkTargetInside(rel, entry.linkpath ?? '', entry.type === 'Link');
      problems.push(
        inside === undefined
          ? { kind: 'unsafe-path', path: rel, message: `link to ${entry.linkpath} points outside the bundle` }
          : { kind: 'bad-entry', path: rel, message: `link to ${entry.linkpath}: a bundle holds regular files only` },
      );
      entry.resume();
      return;
    }
    if (entry.type !== 'File' && entry.type !== 'OldFile' && entry.type !== 'ContiguousFile') {
      problems.push({ kind: 'bad-entry', path: rel, message: `entry of type ${entry.type}: a bundle holds regular files only` });
      entry.resume();
      return;
    }
    if (digests.has(rel)) problems.push({ kind: 'bad-entry', path: rel, message: 'appears twice in the archive' });
    files++;
    const hash = newSha256();
    const keep = SMALL_TEXT.has(rel) ? ([] as Buffer[]) : undefined;
    entry.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
      keep?.push(chunk);
    });
    entry.on('end', () => {
      digests.set(rel, hash.digest('hex'));
      if (rel === BUNDLE_YAML) texts.bundleYaml = Buffer.concat(keep!).toString('utf8');
      if (rel === SUMS) texts.sums = Buffer.concat(keep!).toString('utf8');
    });
    if (opts.extractTo) {
      const dest = join(opts.extractTo, rel);
      pending.push(
        mkdir(dirname(dest), { recursive: true }).then(() => pipeline(entry, createWriteStream(dest, { flags: 'wx', mode: (entry.mode ?? 0o644) & 0o111 ? 0o755 : 0o644 }))),
      );
    }
  });
  let corrupt: string | undefined;
  parser.on('warn', (code: string, message: string) => {
    corrupt ??= `${code}: ${message}`;
  });
  const input = createReadStream(file, { highWaterMark: READ_CHUNK });
  input.on('data', (c) => {
    read += c.length;
    onProgress({ type: 'advance', id: 'verify', bytes: read, total });
  });
  onProgress({ type: 'start', id: 'verify', label: 'verify bundle', total });
  try {
    await pipeline(input, parser);
  } catch (err: any) {
    corrupt ??= err.message;
  }
  await Promise.all(pending).catch((err) => {
    corrupt ??= `unpack: ${err.message}`;
  });
  onProgress({ type: 'done', id: 'verify', bytes: read, cached: false });
  if (corrupt || top === undefined) {
    problems.push({ kind: 'corrupt', path: file, message: `truncated or corrupt tar (${corrupt ?? 'no entries'})` });
  }
  const compared = compareWithSums(digests, texts);
  return { problems: [...problems, ...compared.problems], meta: compared.meta, top, files, bytes, digests };
}
