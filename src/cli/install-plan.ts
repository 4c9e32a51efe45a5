import yaml from 'js-yaml';
import type { InstallPlan } from '../install/plan.js';
import { table } from '../progress/format.js';

/** `install --plan` for a person: the same document as --json, as tables and YAML. */
export function renderPlan(p: InstallPlan): string {
  const out: string[] = [];
  out.push(`Plan for ${p.bundle.id} (${p.bundle.path}), ${p.mode}; the mirror: ${p.mirror.url}, its registry ${p.mirror.registry || '-'}`, '');
  out.push(table([['#', 'STEP', 'TITLE', 'HOSTS'], ...p.steps.map((s, i) => [String(i + 1), s.id, s.title, s.hosts.join(', ') || '-'])]), '');
  out.push(`ansible-playbook ${p.ansible.playbook ?? '(none: the bundle has no playbooks)'} -i ${p.ansible.inventory} -e @<one vars file>:`);
  out.push(indent(yaml.dump(p.ansible.extraVars, { lineWidth: 200, noRefs: true, sortKeys: false })));
  out.push(`Set by ks-bundle for the mirror (a user may not set them): ${p.ansible.mirrorOwned.join(', ') || '-'}`, '');
  out.push(
    p.storage.classes.length
      ? table([['STORAGECLASS', 'PROVISIONER', 'DEFAULT'], ...p.storage.classes.map((c) => [c.name, c.provisioner, c.default ? 'yes' : ''])])
      : 'StorageClasses: none',
    '',
  );
  if (p.kubesphere) {
    out.push(`KubeSphere: kubectl apply -f ${p.kubesphere.manifests.join(', then ')}; the ClusterConfiguration:`);
    out.push(indent(yaml.dump(p.kubesphere.clusterConfiguration, { lineWidth: 200, noRefs: true })));
    out.push(`KubeSphere images, as nodes pull them (${p.kubesphere.images.length}):`, ...p.kubesphere.images.map((i) => `  ${i}`), '');
  } else out.push('KubeSphere: not in this bundle', '');
  out.push(`Images the install pulls: ${p.images.wanted.length}, missing from the bundle: ${p.images.missing.length}`, ...p.images.missing.map((i) => `  missing: ${i}`));
  for (const n of p.notes) out.push(`note: ${n}`);
  return out.join('\n');
}

function indent(text: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}
