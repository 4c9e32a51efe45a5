/**
 * How big the bundle `build` writes will be, from the plan alone (nothing fetched yet): the artifacts' bytes, what
 * each kind generates, the files every bundle has, and the tar's own cost per file (a 512-byte header, a PAX header
 * more where the path passes 100 bytes, padding to the next 512). The per-file figures are averages measured on
 * real bundles; they matter only for bundles of many small files. The size of a plain tarball; a folder bundle is
 * its files. Pure.
 */
import { PLAN_KINDS, type KindFigures, type PlanKind } from '../collector/context.js';

const BLOCK = 512;
/** A PAX header (its header block and one block of records) before a header whose path does not fit 100 bytes. */
const PAX = 2 * BLOCK;
/** The two zero blocks that end an archive. */
const END = 2 * BLOCK;

/** How one artifact of a kind sits in a bundle, on average. */
interface KindShape {
  /** Bundle files per artifact: an image is its blobs (index, manifests, configs, layers), a wheel has its METADATA beside it. */
  files: number;
  /** Path length in the bundle of each of those files, top folder excluded. */
  path: number;
  /** Folders per artifact that only it brings (a deb's pool folder), besides the kind's fixed ones. */
  folders: number;
  /** Bytes per artifact in the lock (an image: itself and each blob; a deb: its whole Packages stanza). */
  lock: number;
  /** Bytes per artifact in the SBOM (CycloneDX JSON, one component each). */
  sbom: number;
}

const SHAPES: Record<PlanKind, KindShape> = {
  // repos/images/blobs/sha256/<64 hex>
  images: { files: 6, path: 90, folders: 0, lock: 1900, sbom: 700 },
  // repos/files/<name>
  files: { files: 1, path: 30, folders: 0, lock: 250, sbom: 650 },
  // repos/apt/<os>/pool/main/<p>/<source>/<file>.deb
  debs: { files: 1, path: 75, folders: 1, lock: 1400, sbom: 680 },
  // repos/pip/files/<wheel>, its <wheel>.metadata, and repos/pip/simple/<project>/index.{html,json}
  wheels: { files: 4, path: 60, folders: 1, lock: 320, sbom: 700 },
  manifests: { files: 1, path: 30, folders: 0, lock: 250, sbom: 650 },
  // A playbook tree: many small files and folders.
  playbooks: { files: 1, path: 70, folders: 0.5, lock: 250, sbom: 650 },
  // bin/node (one per target arch), bin/ks-bundle.mjs and the modules of bin/ks-bundle/<name>-<hash>.mjs
  runtime: { files: 1, path: 30, folders: 0, lock: 75, sbom: 300 },
};

/** The folders a kind always brings when it has anything (repos/, repos/images/, its blobs/sha256/, ...). */
const KIND_FOLDERS: Record<PlanKind, number> = { images: 4, files: 2, debs: 8, wheels: 4, manifests: 1, playbooks: 1, runtime: 2 };

/** bundle.yaml's fixed part and the lock's and the SBOM's headers. */
const META_BASE = 1500;
const LOCK_BASE = 300;
const SBOM_BASE = 800;

export interface EstimateInput {
  /** Every plan kind's figures (zero for a kind the manifest does not name). */
  kinds: Record<PlanKind, KindFigures>;
  /** What the kinds generate besides their artifacts (indexes, Release files, METADATA). */
  generatedBytes: number;
  /** Files no kind reports, whose bytes are known before anything is fetched: install.sh, scripts/, conf/. */
  fixed: ReadonlyArray<{ path: string; size: number }>;
  /** The bundle's top folder, `<name>-<version>`. */
  top: string;
}

/** A file of this size at this path (top folder excluded) in the tarball: header(s), body, padding. */
export function tarFileBytes(path: string, size: number, top: string): number {
  const full = `${top}/${path}`;
  const pax = full.length > 100 || /[^\x20-\x7e]/.test(full) ? PAX : 0;
  return pax + BLOCK + Math.ceil(size / BLOCK) * BLOCK;
}

/** The bundle's bytes as `build` would write them uncompressed. */
export function estimateBundleBytes(input: EstimateInput): number {
  const { top } = input;
  // A file's header(s); its body ends half a block short of a block boundary, on average.
  const perFile = (path: number) => (top.length + 1 + path > 100 ? PAX : 0) + BLOCK + BLOCK / 2;
  let total = END + BLOCK; // the end blocks and the top folder's own entry
  let files = 0;
  let lockBytes = 0;
  let sbom = 0;
  let pathBytes = 0;
  for (const kind of PLAN_KINDS) {
    const f = input.kinds[kind];
    if (!f.count) continue;
    const shape = SHAPES[kind];
    const n = Math.max(1, Math.round(f.count * shape.files));
    // Bodies: their bytes, padded; headers: one per file, PAX where the path is long.
    total += f.bytes + n * perFile(shape.path);
    total += (KIND_FOLDERS[kind] + Math.round(f.count * shape.folders)) * BLOCK;
    files += n;
    pathBytes += n * shape.path;
    lockBytes += f.count * shape.lock;
    sbom += f.count * shape.sbom;
  }
  // Generated files (indexes, Release, Packages, METADATA) are counted among the kind's files above; their bytes here.
  total += input.generatedBytes;
  for (const f of input.fixed) {
    total += tarFileBytes(f.path, f.size, top);
    pathBytes += f.path.length;
    files++;
  }
  total += 3 * BLOCK; // bin/, scripts/, conf/
  // SHA256SUMS: `<64 hex>  <path>\n` per covered file.
  const sums = files * (64 + 3) + pathBytes;
  const lock = LOCK_BASE + lockBytes;
  const sbomBytes = SBOM_BASE + sbom;
  for (const [path, size] of [
    ['SHA256SUMS', sums],
    ['bundle.lock.yaml', lock],
    ['sbom.cdx.json', sbomBytes],
    ['bundle.yaml', META_BASE],
  ] as const) {
    total += tarFileBytes(path, size, top);
  }
  return total;
}
