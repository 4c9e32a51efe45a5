import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * kubespray refuses to run outside [minimal_ansible_version, maximal_ansible_version) (playbooks/ansible_version.yml,
 * an assert in its first play). The ansible-core wheels the bundle's pip index holds are what the taskbox installs;
 * one outside that range is a warning naming the range, said before any node is touched.
 */
export async function ansibleRangeWarning(bundleDir: string): Promise<string | undefined> {
  const text = await readFile(join(bundleDir, 'playbooks', 'playbooks', 'ansible_version.yml'), 'utf8').catch(() => undefined);
  if (!text) return undefined;
  const min = /minimal_ansible_version:\s*"?([\d.]+)/.exec(text)?.[1];
  const max = /maximal_ansible_version:\s*"?([\d.]+)/.exec(text)?.[1];
  if (!min || !max) return undefined;
  const wheels = await readdir(join(bundleDir, 'repos', 'pip', 'files')).catch(() => [] as string[]);
  const versions = [...new Set(wheels.flatMap((w) => /^ansible_core-([\d.]+)-.*\.whl$/.exec(w)?.[1] ?? []))];
  const outside = versions.filter((v) => !(compare(v, min) >= 0 && compare(v, max) < 0));
  if (!outside.length) return undefined;
  return `the bundle's ansible-core ${outside.join(', ')} is outside kubespray's supported range >= ${min}, < ${max} (playbooks/ansible_version.yml): its first play will refuse to run`;
}

export function compare(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}
