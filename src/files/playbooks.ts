import { createReadStream } from 'node:fs';
import { chmod, lstat, mkdir, readdir, stat, realpath } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { extract } from 'tar';
import type { BuildContext, Collector, KindOutput } from '../collector/context.js';
import { collectWith, UnavailableError } from '../collector/run.js';
import { fetchPinned, isUnavailable, planPinned } from '../collector/pinned-url.js';
import type { BundleEntry } from '../bundle/entry.js';
import { checkLockedDigest, lockedEntry } from '../lock/locked.js';
import { InputError, redactUrl } from '../errors.js';
import { SHA256_HEX, hashFile, sha256OfString } from '../store/hashing.js';
import type { ContentStore } from '../store/content-store.js';
import { mapLimit } from '../util/concurrency.js';
import { renderSums } from '../bundle/sha256sums.js';

/**
 * `spec.playbooks` → `playbooks/…`: a local folder, or a pinned .tar.gz (kubespray's release archive, from its URL or
 * an alternate of it) unpacked with its single top folder stripped. The plan measures the archive on the server (or
 * the folder on disk); the lock records the archive's digest, or for a folder the digest of its file list.
 */
export const planPlaybooks: Collector = async (ctx) => {
  const spec = ctx.manifest.playbooks;
  if (!spec) return { kinds: { playbooks: { count: 0, bytes: 0, cachedBytes: 0 } }, unavailable: [], fetch: async () => ({ entries: [], lock: [] }) };
  if (!spec.url) {
    const root = spec.path!;
    const bytes = await folderBytes(root).catch(() => {
      throw new InputError(`${ctx.manifest.file}: spec.playbooks.path: ${root} is not a folder`);
    });
    // Files on this machine: nothing to download.
    return { kinds: { playbooks: { count: 1, bytes, cachedBytes: bytes } }, unavailable: [], fetch: () => fromFolder(ctx, root, root) };
  }
  checkLockedDigest(lockedEntry(ctx.locked, 'playbooks', 'playbooks'), spec.sha256!, 'playbooks');
  const plan = await planPinned(ctx, { kind: 'playbooks', name: 'playbooks', url: spec.url, sha256: spec.sha256!, what: 'playbooks archive' });
  if (isUnavailable(plan)) return { kinds: {}, unavailable: [plan], fetch: () => Promise.reject(new UnavailableError([plan])) };
  // The archive's size: the tree unpacked from it is somewhat larger (a few MB for kubespray).
  const bytes = plan.size ?? 0;
  return {
    kinds: { playbooks: { count: 1, bytes, cachedBytes: plan.cached ? bytes : 0 } },
    unavailable: [],
    async fetch() {
      const { blob, source } = await fetchPinned(ctx, plan);
      const archive = { sha256: blob.sha256, size: blob.size, url: redactUrl(spec.url!) };
      const known = await unpackedBefore(ctx.store, blob.sha256);
      if (known) return withLock(ctx, known, redactUrl(source), archive);
      const into = join(ctx.workDir, 'playbooks');
      await mkdir(into, { recursive: true });
      // An upstream's archive is extracted whole, folders, modes and links included: that is node-tar's job, not the
      // bundle reader's (which takes regular files only). node-tar refuses absolute paths and `..` by default; links
      // are dereferenced below or refused.
      await extract({ file: blob.path, cwd: into });
      const entries = await walkFolder(await singleTopFolder(into), 'playbooks');
      return withLock(ctx, await keepUnpacked(ctx.store, blob.sha256, entries), redactUrl(source), archive);
    },
  };
};

const UNPACKED = (archive: string) => `playbooks-unpacked-${archive}`;

/**
 * Every file unpacked from the archive, moved into the cache by the digest it was just hashed to, and the list of them
 * remembered under the archive's digest: the next build takes the tree from there, unpacking and hashing nothing.
 */
async function keepUnpacked(store: ContentStore, archive: string, entries: BundleEntry[]): Promise<BundleEntry[]> {
  const kept: BundleEntry[] = [];
  for (const e of entries) {
    const what = `${e.path} of the playbooks archive`;
    const digest = { sha256: e.sha256!, size: e.size };
    let stored = await store.has(digest.sha256, digest.size);
    if (!stored && (await lstat(e.file!)).isFile()) {
      // Hashed as it was walked, in the build's own work folder: moved, not copied. Cache files are not executable.
      await chmod(e.file!, 0o644);
      stored = await store.commit(e.file!, digest, digest, what);
    }
    // A link inside the tree: its target's bytes, read and checked as they go in.
    stored ??= await store.put(createReadStream(e.file!), digest, what);
    kept.push({ ...e, file: stored.path });
  }
  await store.remember(UNPACKED(archive), JSON.stringify(kept.map(({ path, size, sha256, mode }) => ({ path, size, sha256, mode }))));
  return kept;
}

/** The tree unpacked from the archive before, when the cache still holds every file of it. */
async function unpackedBefore(store: ContentStore, archive: string): Promise<BundleEntry[] | undefined> {
  let listed: Array<{ path: string; size: number; sha256: string; mode: number }>;
  try {
    listed = JSON.parse((await store.recall(UNPACKED(archive))) ?? 'null') as typeof listed;
    if (!Array.isArray(listed) || !listed.length) return undefined;
  } catch {
    return undefined;
  }
  const sane = ({ path, sha256 }: (typeof listed)[number]) =>
    typeof path === 'string' && path.startsWith('playbooks/') && !path.split('/').includes('..') && typeof sha256 === 'string' && SHA256_HEX.test(sha256);
  if (!listed.every(sane)) return undefined;
  const entries = await mapLimit(listed, 16, async ({ path, size, sha256, mode }): Promise<BundleEntry | undefined> => {
    const stored = await store.has(sha256, size);
    return stored && { path, file: stored.path, size, sha256, mode: mode === 0o755 ? 0o755 : 0o644 };
  });
  return entries.every((e) => e !== undefined) ? (entries as BundleEntry[]) : undefined;
}

/** The playbooks under `root` as bundle entries and their lock entry. */
async function fromFolder(ctx: BuildContext, root: string, source: string): Promise<KindOutput> {
  return withLock(ctx, await walkFolder(root, 'playbooks'), source);
}

/** The playbooks' entries and their lock entry; `archive` when they came from one. */
function withLock(ctx: BuildContext, entries: BundleEntry[], source: string, archive?: { sha256: string; size: number; url: string }): KindOutput {
  const spec = ctx.manifest.playbooks!;
  if (!entries.some((e) => e.path === `playbooks/${spec.entry}`)) {
    throw new InputError(`${ctx.manifest.file}: spec.playbooks.entry: ${spec.entry} is not in the playbooks (${archive?.url ?? source})`);
  }
  const listing = renderSums(entries.map((e) => [e.path, e.sha256!] as [string, string]));
  const sha256 = archive?.sha256 ?? sha256OfString(listing);
  if (!archive) checkLockedDigest(lockedEntry(ctx.locked, 'playbooks', 'playbooks'), sha256, 'playbooks folder');
  const size = archive?.size ?? entries.reduce((n, e) => n + e.size, 0);
  return { entries, lock: [{ kind: 'playbooks', name: 'playbooks', ...(archive ? { url: archive.url } : {}), source, size, sha256, extra: { entry: spec.entry, files: entries.length } }] };
}

/** Bytes of the regular files under a folder (links followed), for the plan; throws when it is not a folder. */
async function folderBytes(dir: string): Promise<number> {
  if (!(await stat(dir)).isDirectory()) throw new Error('not a folder');
  let total = 0;
  for (const name of await readdir(dir)) {
    const st = await stat(join(dir, name)).catch(() => undefined);
    if (st?.isDirectory()) total += await folderBytes(join(dir, name));
    else if (st?.isFile()) total += st.size;
  }
  return total;
}

/** The archive's single top folder (kubespray-2.24.3/), stripped as the archive's own name; else the folder itself. */
async function singleTopFolder(dir: string): Promise<string> {
  const tops = await readdir(dir, { withFileTypes: true });
  return tops.length === 1 && tops[0]!.isDirectory() ? join(dir, tops[0]!.name) : dir;
}

/** Every regular file under root, as bundle entries with their digests; a link is followed only if it stays inside. */
export async function walkFolder(root: string, prefix: string): Promise<BundleEntry[]> {
  const realRoot = await realpath(root);
  const out: BundleEntry[] = [];
  const visit = async (dir: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      const abs = join(dir, name);
      let st = await lstat(abs);
      if (st.isSymbolicLink()) {
        const target = await realpath(abs).catch(() => undefined);
        if (!target || (target !== realRoot && !target.startsWith(realRoot + sep))) {
          throw new InputError(`${abs}: a link that points outside ${root}`, { hint: 'A bundle holds regular files only; replace the link with the file.' });
        }
        st = await stat(abs);
      }
      if (st.isDirectory()) await visit(abs);
      else if (st.isFile()) {
        const { sha256, size } = await hashFile(abs);
        const rel = relative(root, abs).split(sep).join('/');
        out.push({ path: `${prefix}/${rel}`, file: abs, size, sha256, mode: st.mode & 0o111 ? 0o755 : 0o644 });
      }
    }
  };
  await visit(root);
  return out;
}

/** Plan, then fetch. */
export const collectPlaybooks = (ctx: BuildContext): Promise<KindOutput> => collectWith(planPlaybooks, ctx);
