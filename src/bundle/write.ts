import { createWriteStream } from 'node:fs';
import { chmod, copyFile, link, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { PassThrough, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { BundleEntry } from '../bundle/entry.js';
import { KsBundleError, localFailure } from '../errors.js';
import type { OnProgress } from '../progress/events.js';
import { noProgress } from '../progress/events.js';
import { hashFile, newSha256, sha256OfString } from '../store/hashing.js';
import { tempSibling, writeFileAtomic } from '../store/atomic.js';
import { BUNDLE_YAML, SUMS, isUncovered, topDirName } from './layout.js';
import { renderSums } from './sha256sums.js';
import { renderBundleMeta, type BundleMeta } from './meta.js';
import { itemHead, writeTarStream, type TarItem } from './tar-writer.js';
import { packTarFile } from './tar-pack-thread.js';
import { rememberPlan, type PackAhead, type PackMemo } from './tar-pack-ahead.js';

export type Compression = 'none' | 'gzip';

export interface WriteBundleOptions {
  name: string;
  version: string;
  entries: BundleEntry[];
  /** bundle.yaml's content; `sha256sums` is added here. */
  meta: Omit<BundleMeta, 'sha256sums'>;
  /** A `.tar`/`.tar.gz` file, or a folder (ending in `/` or an existing directory) for an unpacked bundle. */
  out: string;
  asDirectory: boolean;
  compress: Compression;
  onProgress?: OnProgress;
  /**
   * A delta (meta.base set): digests its base already holds. Such a file is listed in SHA256SUMS like any other
   * but not written; installing the delta over its base takes it from there.
   */
  inBase?: Set<string>;
  /**
   * Keeps a tarball's sha256 under a key naming everything packed into it (every header, and each body by its
   * digest), so packing the same bundle again from the same cache writes it without hashing it again. The content
   * store is one: its files are named by their digests.
   */
  memo?: PackMemo;
  /** Remember what is packed under this key (see tar-pack-ahead.ts), for the next build to pack ahead. */
  planKey?: string;
  /** The tarball packed ahead from the last build's plan: the bundle when it packs the same items. */
  ahead?: PackAhead;
  /** Ctrl-C: a pack ahead that it stopped (its `cat` gets the signal too) is not packed again. */
  signal?: AbortSignal;
}

export interface WrittenBundle {
  path: string;
  /** sha256 of SHA256SUMS, the bundle's root digest (bundle.yaml's sha256sums). */
  sha256sums: string;
  /** Files listed but left to the base (a delta). */
  fromBase: number;
  /** sha256 of the tarball (also in the `<bundle>.sha256` sidecar); undefined for a folder. */
  sha256?: string;
  bytes: number;
  files: number;
}

/**
 * Write the bundle: bundle.yaml and SHA256SUMS first (so a reader can check every later entry as it streams),
 * then every other file in sorted order with fixed metadata. The output appears under its name only when complete.
 */
export async function writeBundle(opts: WriteBundleOptions): Promise<WrittenBundle> {
  const onProgress = opts.onProgress ?? noProgress;
  const entries = await withDigests(checkUnique(opts.entries));
  const sums = renderSums(entries.filter((e) => !isUncovered(e.path)).map((e) => [e.path, e.sha256!] as [string, string]));
  const meta: BundleMeta = { ...opts.meta, sha256sums: sha256OfString(sums) };
  const head: BundleEntry[] = [
    { path: BUNDLE_YAML, data: Buffer.from(renderBundleMeta(meta)), size: 0 },
    { path: SUMS, data: Buffer.from(sums), size: 0 },
  ].map((e) => ({ ...e, size: e.data!.length }));
  const carried = entries.filter((e) => !(opts.inBase?.has(e.sha256!) && !isUncovered(e.path)));
  const ordered = [...head, ...carried.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))];
  const total = ordered.reduce((n, e) => n + e.size, 0);
  onProgress({ type: 'start', id: 'pack', label: 'pack bundle', total });
  const result = opts.asDirectory ? await writeTree(opts.out, ordered, onProgress, total) : await writeTarball(opts, ordered, onProgress, total);
  onProgress({ type: 'done', id: 'pack', bytes: total, cached: false });
  return { ...result, files: ordered.length, sha256sums: meta.sha256sums, fromBase: entries.length - carried.length };
}

function checkUnique(entries: BundleEntry[]): BundleEntry[] {
  const seen = new Set<string>();
  for (const e of entries) {
    if (e.path.startsWith('/') || e.path.split('/').includes('..')) throw new KsBundleError('FAILED', `internal: bad bundle path ${e.path}`);
    if (seen.has(e.path)) throw new KsBundleError('FAILED', `two artifacts want the same bundle path: ${e.path}`, { hint: 'Give one of them another "name" in the manifest.' });
    seen.add(e.path);
  }
  if (seen.has(BUNDLE_YAML) || seen.has(SUMS)) throw new KsBundleError('FAILED', `internal: ${BUNDLE_YAML} and ${SUMS} are written by the bundle writer`);
  return entries;
}

async function withDigests(entries: BundleEntry[]): Promise<BundleEntry[]> {
  return Promise.all(
    entries.map(async (e) => {
      if (e.sha256) return e;
      if (e.data) return { ...e, sha256: sha256OfString(e.data), size: e.data.length };
      const { sha256, size } = await hashFile(e.file!);
      return { ...e, sha256, size };
    }),
  );
}

function tarItems(top: string, entries: BundleEntry[]): TarItem[] {
  const items: TarItem[] = [{ path: `${top}/`, type: 'Directory', mode: 0o755, size: 0 }];
  const dirs = new Set<string>();
  for (const e of entries) {
    const parts = e.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (!dirs.has(d)) {
        dirs.add(d);
        items.push({ path: `${top}/${d}/`, type: 'Directory', mode: 0o755, size: 0 });
      }
    }
    items.push({ path: `${top}/${e.path}`, type: 'File', mode: e.mode ?? 0o644, size: e.size, file: e.file, data: e.data, sha256: e.sha256 });
  }
  return items;
}

async function writeTarball(opts: WriteBundleOptions, ordered: BundleEntry[], onProgress: OnProgress, total: number): Promise<Omit<WrittenBundle, 'files' | 'sha256sums' | 'fromBase'>> {
  await mkdir(dirname(opts.out), { recursive: true }).catch((err) => Promise.reject(localFailure(err, dirname(opts.out), 'writing the bundle')));
  let tmp = tempSibling(opts.out);
  const items = tarItems(topDirName(opts.name, opts.version), ordered);
  let done = 0;
  const onBytes = (n: number) => {
    done += n;
    onProgress({ type: 'advance', id: 'pack', bytes: done, total });
  };
  try {
    let packed: { sha256: string; bytes: number };
    if (opts.compress === 'gzip') packed = await gzipTarFile(tmp, items, onBytes);
    else {
      const ahead = await opts.ahead?.settle(items, onBytes);
      if (ahead) tmp = ahead.file;
      else opts.signal?.throwIfAborted();
      packed = ahead ?? (await packRemembered(tmp, items, opts, onBytes));
    }
    await rename(tmp, opts.out);
    await writeFileAtomic(`${opts.out}.sha256`, `${packed.sha256}  ${basename(opts.out)}\n`);
    return { path: opts.out, ...packed };
  } catch (err) {
    await rm(tmp, { force: true });
    throw err instanceof KsBundleError ? err : localFailure(err, dirname(opts.out), 'writing the bundle');
  }
}

/**
 * The plain tar into a new file, hashed unless the memo knows the digest of these very bytes: the same
 * headers in the same order and the same bodies by digest (the cache's files are named by theirs, and hold nothing
 * else). With a plan key, what was packed is remembered for the next build to pack ahead.
 */
async function packRemembered(file: string, items: TarItem[], opts: WriteBundleOptions, onBytes: (n: number) => void): Promise<{ sha256: string; bytes: number }> {
  const memo = opts.memo;
  const key = memo && packKey(items);
  const known = memo && key ? /^([0-9a-f]{64}) (\d+)\n$/.exec((await memo.recall(key)) ?? '') : null;
  const packed = await packTarFile(file, items, { hash: !known, onBytes });
  const sha256 = known && Number(known[2]) === packed.bytes ? known[1]! : (packed.sha256 ?? (await hashFile(file)).sha256);
  const result = { sha256, bytes: packed.bytes };
  if (memo && key) {
    await Promise.all([
      known?.[1] === sha256 ? undefined : memo.remember(key, `${sha256} ${packed.bytes}\n`),
      opts.planKey ? rememberPlan(memo, opts.planKey, items, result) : undefined,
    ]);
  }
  return result;
}

/** What names a plain tarball's bytes: every header, each inline body, and each file body by its digest and size. */
function packKey(items: TarItem[]): string | undefined {
  const h = newSha256().update('ks-bundle tar\n');
  for (const i of items) {
    h.update(itemHead(i));
    if (i.data) h.update(i.data);
    else if (i.file) {
      if (!i.sha256) return undefined;
      h.update(`${i.sha256} ${i.size}\n`);
    }
  }
  return `tar-sha256-${h.digest('hex')}`;
}

/** The tar through gzip into a new file; the sha256 is of the compressed bytes, the file as shipped. */
async function gzipTarFile(file: string, items: TarItem[], onBytes: (n: number) => void): Promise<{ sha256: string; bytes: number }> {
  const hash = newSha256();
  let bytes = 0;
  const tar = new PassThrough({ highWaterMark: 4 << 20 });
  const hashed = new Transform({
    transform(chunk: Buffer, _e, cb) {
      hash.update(chunk);
      bytes += chunk.length;
      cb(null, chunk);
    },
  });
  const done = pipeline(tar, createGzip({ level: 6 }), hashed, createWriteStream(file, { flags: 'wx' }));
  try {
    await writeTarStream(tar, items, onBytes);
    tar.end();
  } catch (err) {
    tar.destroy();
    await done.catch(() => {});
    throw err;
  }
  await done;
  return { sha256: hash.digest('hex'), bytes };
}

async function writeTree(out: string, ordered: BundleEntry[], onProgress: OnProgress, total: number): Promise<Omit<WrittenBundle, 'files' | 'sha256sums' | 'fromBase'>> {
  const tmp = tempSibling(out.replace(/\/+$/, ''));
  let done = 0;
  try {
    for (const e of ordered) {
      const dest = join(tmp, e.path);
      await mkdir(dirname(dest), { recursive: true });
      if (e.data) await writeFile(dest, e.data, { mode: e.mode ?? 0o644 });
      else if (e.mode && e.mode !== 0o644) {
        // A hard link shares its mode with the cache blob; executables get their own copy.
        await copyFile(e.file!, dest);
        await chmod(dest, e.mode);
      } else {
        // Hard links keep a folder bundle as cheap as the cache; a copy where links cannot cross filesystems.
        await link(e.file!, dest).catch(() => copyFile(e.file!, dest));
      }
      done += e.size;
      onProgress({ type: 'advance', id: 'pack', bytes: done, total });
    }
    await rm(out, { recursive: true, force: true });
    await rename(tmp, out.replace(/\/+$/, ''));
    return { path: out, bytes: total };
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}
