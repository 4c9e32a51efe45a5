import type { NodeFacts } from '../nodes/facts.js';

/** The seed's hardware table: below minimum fails (unless --ignore-preflight), below recommended warns. */
export const HARDWARE = {
  minimum: { cpus: 8, memoryGiB: 12, diskGiB: 40 },
  recommended: { cpus: 16, memoryGiB: 32, diskGiB: 100 },
} as const;

export interface BundleTarget {
  os: string;
  arch: string;
}

export interface Verdict {
  level: 'ok' | 'warn' | 'fail';
  notes: string[];
}

const GiB = 1024 ** 3;

/** The bundle's os name for a node: os-release ID and VERSION_ID as `debian-12`, `ubuntu-22.04`. */
export function osName(f: NodeFacts): string {
  return `${f.osId}-${f.osVersionId}`;
}

/** Judge one node's facts against the bundle's targets and the hardware table (--ignore-preflight: hardware only warns). Pure. */
export function judgeFacts(f: NodeFacts, targets: BundleTarget[], opts: { ignoreHardware?: boolean } = {}): Verdict {
  const notes: string[] = [];
  let level: Verdict['level'] = 'ok';
  const fail = (n: string) => {
    notes.push(n);
    level = 'fail';
  };
  const warn = (n: string) => {
    notes.push(n);
    if (level === 'ok') level = 'warn';
  };
  const os = osName(f);
  if (!targets.some((t) => t.os === os && t.arch === f.arch)) {
    fail(`${os}/${f.arch} is not among the bundle's targets (${targets.map((t) => `${t.os}/${t.arch}`).join(', ')})`);
  }
  const have = { cpus: f.cpus, memoryGiB: f.memoryBytes / GiB, diskGiB: f.diskBytes / GiB };
  for (const k of ['cpus', 'memoryGiB', 'diskGiB'] as const) {
    const label = k === 'cpus' ? `${have.cpus} CPUs` : k === 'memoryGiB' ? `${have.memoryGiB.toFixed(1)} GiB memory` : `${have.diskGiB.toFixed(0)} GiB disk`;
    if (have[k] < HARDWARE.minimum[k]) (opts.ignoreHardware ? warn : fail)(`${label} < minimum ${HARDWARE.minimum[k]}`);
    else if (have[k] < HARDWARE.recommended[k]) warn(`${label} < recommended ${HARDWARE.recommended[k]}`);
  }
  return { level, notes };
}
