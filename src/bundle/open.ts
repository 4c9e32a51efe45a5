import { readFile, stat, mkdir, mkdtemp, rm, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError, IntegrityError, KsBundleError, formatProblem, localFailure } from '../errors.js';
import { TarFormatError } from './tar-reader.js';
import type { OnProgress } from '../progress/events.js';
import { writeFileAtomic } from '../store/atomic.js';
import { BUNDLE_YAML, UNPACKED_MARKER, topDirName } from './layout.js';
import { parseBundleMeta, type BundleMeta } from './meta.js';
import { peekTar } from './peek.js';
import { openByteSource, type ByteCheck, type ByteSource } from '../parts/source.js';
import { integrityError, verifyFolder, verifyTarball, type VerifyOptions, type VerifyReport } from './verify.js';
import { baseFolder, describeBase, fillFromBase } from './delta.js';
import { checkDiskSpace, diskAt } from '../util/disk-space.js';

/** A bundle's folder on disk, checked, with its bundle.yaml. */
export interface UnpackedBundle {
  dir: string;
  meta: BundleMeta;
  /** A tarball already unpacked there earlier, verified again and kept. */
  reused: boolean;
}

/**
 * One bundle, however it is kept: a tarball (.tar, .tar.gz, or split into parts) or an unpacked folder. Every
 * command that reads a bundle starts here; nothing read from it is used before it is verified, except by `peek`
 * (inspect), which says so.
 */
export interface Bundle {
  /** The path the user gave. */
  readonly path: string;
  readonly kind: 'tarball' | 'folder';
  /** Check every byte against SHA256SUMS, and SHA256SUMS against bundle.yaml; writes nothing. */
  verify(opts?: VerifyOptions): Promise<VerifyReport>;
  /** Small files (bundle.yaml, the lock) by path in the bundle, unverified; a corrupt archive throws IntegrityError. */
  peek(names: readonly string[]): Promise<Map<string, string>>;
  /**
   * A verified folder of the bundle. A tarball is verified and unpacked in one pass under `dataDir`, into
   * `<name>-<version>/` (names from the verified bundle.yaml); a folder unpacked there before is verified again and
   * kept. A folder bundle is verified where it is; `verify: false` only reads its bundle.yaml (a caller that has
   * just verified it, in this run). A delta is completed with the files it takes from its base: `base` (a bundle,
   * unpacked under `dataDir` if it is a tarball) or the base an earlier install left in `dataDir`.
   */
  unpack(opts: UnpackOptions): Promise<UnpackedBundle>;
}

export interface UnpackOptions {
  dataDir: string;
  onProgress?: OnProgress;
  verify?: boolean;
  /** A check over the tarball's bytes (its signature) that rides the verifying read and must pass before it is unpacked. */
  check?: ByteCheck;
  /** A delta's base bundle (tarball, .parts or folder). */
  base?: string;
  /** Where an earlier install left a delta's base, `<name>-<version>/` (default: dataDir). */
  baseDataDir?: string;
}


export async function openBundle(path: string): Promise<Bundle> {
  const st = await stat(path).catch(() => undefined);
  const hint = 'Give a bundle tarball (.tar, .tar.gz), its .parts file (a split bundle), or an unpacked bundle folder.';
  if (!st) throw new InputError(`${path}: no such bundle`, { hint });
  if (st.isDirectory()) return folderBundle(path);
  if (st.isFile()) return tarballBundle(path, () => openByteSource(path));
  throw new InputError(`${path}: not a file or a folder`, { hint });
}

function folderBundle(dir: string): Bundle {
  return {
    path: dir,
    kind: 'folder',
    verify: (opts) => verifyFolder(dir, opts),
    async peek(names) {
      const found = new Map<string, string>();
      for (const n of names) {
        const text = await readFile(join(dir, n), 'utf8').catch(() => undefined);
        if (text !== undefined) found.set(n, text);
      }
      return found;
    },
    async unpack(opts) {
      if (opts.check) throw new InputError(`${dir}: an unpacked folder has no signature to check`, { hint: 'The signature covers the tarball: give the .tar (or its .parts).' });
      if (opts.verify === false) return { dir, meta: await metaOfFolder(dir), reused: false };
      const report = await verifyFolder(dir, { onProgress: opts.onProgress });
      if (!report.ok || !report.meta) throw integrityError(dir, report.problems);
      if (report.meta.base && report.fromBase.size) {
        throw new InputError(`${dir} is an unpacked delta over ${describeBase(report.meta.base)}: ${report.fromBase.size} of its files are in the base`, {
          hint: 'Give the delta tarball (or its .parts): it is unpacked beside its base and completed from it.',
        });
      }
      return { dir, meta: report.meta, reused: false };
    },
  };
}

/** `open` gives a fresh source for each read: a source keeps the state of one read (a stop, a damaged part). */
function tarballBundle(path: string, open: () => Promise<ByteSource>): Bundle {
  const peek = async (names: readonly string[]) =>
    peekTar(await open(), names).catch((err: Error) => {
      if (err instanceof KsBundleError) throw err;
      if (!(err instanceof TarFormatError) && !(err as NodeJS.ErrnoException).code?.startsWith('Z_')) throw localFailure(err, path, 'reading the bundle');
      throw new IntegrityError(`${path}: truncated or corrupt tar (${err.message})`, { hint: 'Copy the bundle again from its source and compare it with its .sha256 file.', cause: err });
    });
  return {
    path,
    kind: 'tarball',
    verify: async (opts) => verifyTarball(await open(), opts),
    peek,
    async unpack(opts) {
      const reused = await reuseEarlierUnpack(open, opts.dataDir, opts.onProgress, peek, opts.check);
      if (reused) await opts.check?.finish();
      if (reused) return reused;
      const inDataDir = <T>(p: Promise<T>) => p.catch((err) => Promise.reject(localFailure(err, opts.dataDir, 'unpacking the bundle')));
      // Before anything is written: a data dir that cannot hold the unpacked bundle fails now, not half way.
      const needed = await unpackedBytes(await open(), peek);
      checkDiskSpace([{ ...(await inDataDir(diskAt(opts.dataDir))), bytes: needed, what: 'the unpacked bundle' }], `unpacking ${path}`, 'writing anything');
      // Unpacked under a temp name first: the folder's name comes from bundle.yaml, known only once verified.
      const tmp = await inDataDir(mkdir(opts.dataDir, { recursive: true }).then(() => mkdtemp(join(opts.dataDir, '.unpack-'))));
      try {
        // A check begins again with this read: a kept unpack that did not match was read once already.
        const report = await verifyTarball(await open(), { onProgress: opts.onProgress, extractTo: tmp, check: opts.check });
        if (!report.ok || !report.meta) throw integrityError(path, report.problems);
        await opts.check?.finish();
        const meta = report.meta;
        if (meta.base) {
          const given = opts.base ? await (await openBundle(opts.base)).unpack({ dataDir: opts.dataDir, onProgress: opts.onProgress }) : undefined;
          const baseDir = await baseFolder(path, { ...meta, base: meta.base }, { dataDir: opts.baseDataDir ?? opts.dataDir, given });
          await fillFromBase(tmp, report.fromBase, baseDir, { onProgress: opts.onProgress });
        }
        const dest = join(opts.dataDir, topDirName(report.meta.name, report.meta.version));
        await inDataDir(writeFileAtomic(join(tmp, UNPACKED_MARKER), report.meta.sha256sums + '\n'));
        await inDataDir(rm(dest, { recursive: true, force: true }).then(() => rename(tmp, dest)));
        return { dir: dest, meta: report.meta, reused: false };
      } catch (err) {
        await rm(tmp, { recursive: true, force: true });
        throw err;
      }
    },
  };
}

/**
 * A folder this tarball was unpacked into before is kept only when both verify, the tarball and the folder, against
 * the same SHA256SUMS: the marker in the folder only says which bundle to compare with, it proves nothing. The name
 * of the folder to look at comes from the unverified bundle.yaml, checked as a path component; nothing is written
 * or removed on its word.
 */
async function reuseEarlierUnpack(
  open: () => Promise<ByteSource>,
  dataDir: string,
  onProgress: OnProgress | undefined,
  peek: (names: readonly string[]) => Promise<Map<string, string>>,
  check: ByteCheck | undefined,
): Promise<UnpackedBundle | undefined> {
  const claimed = parseBundleMeta((await peek([BUNDLE_YAML])).get(BUNDLE_YAML) ?? '').meta;
  if (!claimed) return undefined;
  const dir = join(dataDir, topDirName(claimed.name, claimed.version));
  const marker = (await readFile(join(dir, UNPACKED_MARKER), 'utf8').catch(() => '')).trim();
  if (marker !== claimed.sha256sums) return undefined;
  const source = await open();
  const [tarball, folder] = await Promise.all([verifyTarball(source, { onProgress, check }), verifyFolder(dir)]);
  if (!tarball.ok || !tarball.meta) throw integrityError(source.path, tarball.problems);
  const same = folder.ok && folder.meta?.sha256sums === tarball.meta.sha256sums && topDirName(tarball.meta.name, tarball.meta.version) === topDirName(claimed.name, claimed.version);
  return same ? { dir, meta: tarball.meta, reused: true } : undefined;
}

/**
 * The room a tarball takes once unpacked: a plain tar holds its files and a little more; a gzip one holds at
 * least the bytes its bundle.yaml counts. That file is not verified yet, and is read here only for this figure:
 * nothing is written or trusted on its word.
 */
async function unpackedBytes(source: ByteSource, peek: (names: readonly string[]) => Promise<Map<string, string>>): Promise<number> {
  const magic = await source.head(2);
  if (!(magic[0] === 0x1f && magic[1] === 0x8b)) return source.size;
  const claimed = parseBundleMeta((await peek([BUNDLE_YAML])).get(BUNDLE_YAML) ?? '').meta;
  const counted = Object.values(claimed?.bytes ?? {}).reduce((n, b) => n + b, 0);
  return Math.max(source.size, counted);
}

/** bundle.yaml of a folder the caller verified itself. */
async function metaOfFolder(dir: string): Promise<BundleMeta> {
  const file = join(dir, BUNDLE_YAML);
  const text = await readFile(file, 'utf8').catch(() => {
    throw new InputError(`${dir}: not an unpacked ks-bundle bundle (no readable ${BUNDLE_YAML})`);
  });
  const parsed = parseBundleMeta(text, file);
  if (!parsed.meta) throw new IntegrityError(`${file}: not a valid bundle.yaml\n${parsed.problems.map((p) => '  ' + formatProblem(p)).join('\n')}`);
  return parsed.meta;
}
