/**
 * Wheel file names (PEP 427) and tag compatibility with a target interpreter (PEP 425, PEP 600), ranked in the
 * order pip's `sys_tags()` would list them, so that for one version we pick the wheel pip would pick.
 *
 * `linux_<arch>` is deliberately not compatible: it promises nothing about the glibc it needs, and a bundle is
 * installed on machines other than the builder. Only manylinux tags, whose glibc floor we compare with the target's,
 * are accepted.
 */
import { normalizeName } from './names.js';

export interface WheelTag {
  python: string;
  abi: string;
  platform: string;
}

export interface WheelName {
  /** As spelled in the file name (escaped: `-` became `_`). */
  distribution: string;
  project: string;
  version: string;
  build?: string;
  tags: WheelTag[];
}

export interface TagEnv {
  /** "3.11" */
  python: string;
  arch: 'amd64' | 'arm64';
  /** "2.36" */
  glibc: string;
}

/** Parse `name-version(-build)?-py-abi-plat.whl`; compressed tag sets (`py2.py3`) are expanded. */
export function parseWheelFilename(filename: string): WheelName | undefined {
  if (!filename.endsWith('.whl')) return undefined;
  const parts = filename.slice(0, -4).split('-');
  if (parts.length !== 5 && parts.length !== 6) return undefined;
  const [distribution, version] = parts as [string, string];
  const build = parts.length === 6 ? parts[2] : undefined;
  const [pys, abis, plats] = parts.slice(-3) as [string, string, string];
  const tags: WheelTag[] = [];
  for (const python of pys.split('.')) for (const abi of abis.split('.')) for (const platform of plats.split('.')) tags.push({ python, abi, platform });
  return { distribution, project: normalizeName(distribution), version, build, tags };
}

const MACHINE: Record<TagEnv['arch'], string> = { amd64: 'x86_64', arm64: 'aarch64' };
const LEGACY_MANYLINUX: Record<string, [number, number]> = { manylinux1: [2, 5], manylinux2010: [2, 12], manylinux2014: [2, 17] };

/** The glibc a platform tag needs on this arch, `[0, 0]` for `any`, undefined when the tag cannot run there. */
export function platformFloor(platform: string, arch: TagEnv['arch']): [number, number] | undefined {
  if (platform === 'any') return [0, 0];
  const machine = MACHINE[arch];
  const m = /^manylinux_(\d+)_(\d+)_(.+)$/.exec(platform);
  if (m) return m[3] === machine ? [Number(m[1]), Number(m[2])] : undefined;
  const legacy = /^(manylinux1|manylinux2010|manylinux2014)_(.+)$/.exec(platform);
  if (legacy && legacy[2] === machine) return LEGACY_MANYLINUX[legacy[1]!];
  return undefined;
}

function parsePy(python: string): [number, number] {
  const [maj, min] = python.split('.').map(Number);
  return [maj ?? 3, min ?? 0];
}

/**
 * Rank of the interpreter part (python tag + abi), lower is better, undefined if the target cannot load it.
 * Order as in packaging.tags: cpXY-cpXY, cpXY-abi3 … cp32-abi3, cpXY-none, then pyXY, py3, pyX(Y-1)… -none.
 */
function interpreterRank(tag: WheelTag, major: number, minor: number): number | undefined {
  const cp = `cp${major}${minor}`;
  if (tag.abi === cp || tag.abi === `${cp}m`) return tag.python === cp ? 0 : undefined;
  if (tag.abi === 'abi3') {
    const m = /^cp(\d)(\d+)$/.exec(tag.python);
    if (!m || Number(m[1]) !== major || Number(m[2]) > minor || Number(m[2]) < 2) return undefined;
    return 1 + (minor - Number(m[2]));
  }
  if (tag.abi !== 'none') return undefined;
  if (tag.python === cp) return 100;
  if (tag.python === `py${major}`) return 102;
  const m = /^py(\d)(\d+)$/.exec(tag.python);
  if (!m || Number(m[1]) !== major || Number(m[2]) > minor) return undefined;
  return Number(m[2]) === minor ? 101 : 103 + (minor - Number(m[2]));
}

/**
 * How well a wheel fits the target: lower is better, undefined when no tag of it is compatible. As in pip, platform
 * specific wheels rank before `any` ones, and within a group the newest manylinux floor first.
 */
export function wheelRank(wheel: WheelName, env: TagEnv): number | undefined {
  const [major, minor] = parsePy(env.python);
  const [gMaj, gMin] = env.glibc.split('.').map(Number) as [number, number];
  let best: number | undefined;
  for (const tag of wheel.tags) {
    const interp = interpreterRank(tag, major, minor);
    if (interp === undefined) continue;
    const floor = platformFloor(tag.platform, env.arch);
    if (!floor) continue;
    if (floor[0] > gMaj || (floor[0] === gMaj && floor[1] > gMin)) continue;
    const any = tag.platform === 'any';
    // pip lists every platform-specific tag before the `*-none-any` ones; `cpXY-none-any` comes first among those.
    const group = any ? 1_000_000 + (interp === 100 ? 0 : interp) : interp;
    const platformRank = any ? 0 : (gMaj - floor[0]) * 1000 + (gMin - floor[1]);
    const rank = group * 10_000 + platformRank;
    if (best === undefined || rank < best) best = rank;
  }
  return best;
}

/** Source distributions we recognise only to name them in errors. */
export function isSdist(filename: string): boolean {
  return /\.(tar\.gz|zip|tar\.bz2|tar\.xz|tgz)$/.test(filename);
}

/** `name-1.0.tar.gz` → version, given the project it belongs to. */
export function sdistVersion(filename: string, project: string): string | undefined {
  const stem = filename.replace(/\.(tar\.gz|zip|tar\.bz2|tar\.xz|tgz)$/, '');
  const i = stem.lastIndexOf('-');
  if (i <= 0 || normalizeName(stem.slice(0, i)) !== project) return undefined;
  return stem.slice(i + 1);
}
