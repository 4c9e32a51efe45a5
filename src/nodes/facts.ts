import type { NodeSession } from './session.js';
import { NodeError } from './node-error.js';
import { parseOsRelease } from '../util/os-release.js';

/** What preflight needs to know about a node. */
export interface NodeFacts {
  osId: string; // os-release ID: debian, ubuntu, centos…
  osVersionId: string; // os-release VERSION_ID: 12, 22.04…
  codename?: string;
  /** `uname -m`: x86_64, aarch64. */
  machine: string;
  /** Debian's name when dpkg exists (amd64, arm64), else derived from `uname -m`. */
  arch: string;
  cpus: number;
  memoryBytes: number;
  /** Size and free space of the filesystem holding `/`. */
  diskBytes: number;
  diskFreeBytes: number;
}

const MARK = '@@ksb-facts@@';

/** One round trip; every part prints even when another fails, between marks the parser splits on. */
export const FACTS_SCRIPT = [
  'cat /etc/os-release 2>/dev/null',
  'uname -m',
  'dpkg --print-architecture 2>/dev/null',
  'nproc 2>/dev/null || getconf _NPROCESSORS_ONLN',
  'cat /proc/meminfo',
  'df -P -k / | tail -n 1',
].join(`; echo ${MARK}; `);

const ARCH_OF_MACHINE: Record<string, string> = {
  x86_64: 'amd64', aarch64: 'arm64', armv7l: 'armhf', ppc64le: 'ppc64el', s390x: 's390x', riscv64: 'riscv64', i686: 'i386',
};

/** Pure: the output of FACTS_SCRIPT → facts. Throws naming the part it could not read. */
export function parseFacts(output: string): NodeFacts {
  const parts = output.split(MARK).map((p) => p.trim());
  if (parts.length !== 6) throw new Error(`unexpected facts output (${parts.length} parts)`);
  const [osr, machine, dpkgArch, nproc, meminfo, df] = parts as [string, string, string, string, string, string];
  const os = parseOsRelease(osr);
  if (!os['ID']) throw new Error('no ID in /etc/os-release');
  const cpus = Number(nproc.split('\n')[0]);
  if (!Number.isInteger(cpus) || cpus < 1) throw new Error(`cannot read the CPU count: ${nproc}`);
  const mem = /^MemTotal:\s+(\d+)\s*kB/m.exec(meminfo);
  if (!mem) throw new Error('no MemTotal in /proc/meminfo');
  // df -P: Filesystem 1024-blocks Used Available Capacity Mounted-on
  const d = df.split(/\s+/);
  const size = Number(d[1]);
  const avail = Number(d[3]);
  if (!Number.isFinite(size) || !Number.isFinite(avail)) throw new Error(`cannot read df output: ${df}`);
  const facts: NodeFacts = {
    osId: os['ID'],
    osVersionId: os['VERSION_ID'] ?? '',
    machine,
    arch: dpkgArch || ARCH_OF_MACHINE[machine] || machine,
    cpus,
    memoryBytes: Number(mem[1]) * 1024,
    diskBytes: size * 1024,
    diskFreeBytes: avail * 1024,
  };
  if (os['VERSION_CODENAME']) facts.codename = os['VERSION_CODENAME'];
  return facts;
}

export async function gatherFacts(s: NodeSession): Promise<NodeFacts> {
  const r = await s.exec(FACTS_SCRIPT, { allowFail: true });
  try {
    return parseFacts(r.stdout);
  } catch (e) {
    throw new NodeError(s.name, `cannot gather facts: ${(e as Error).message}`);
  }
}
