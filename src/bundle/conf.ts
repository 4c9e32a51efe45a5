import type { BundleEntry } from '../bundle/entry.js';

/**
 * conf/hosts.ini and conf/vars.yml are the user's to edit, so SHA256SUMS does not cover them; the pristine copies
 * beside them (.example) are covered, so a changed template is still caught. The templates' text is the
 * inventory's (nodes/templates.ts): the caller passes it, so the format layer does not depend on nodes/.
 */
export function confEntries(templates: { hostsIni: string; varsYml: string }): BundleEntry[] {
  return [
    ['conf/hosts.ini', templates.hostsIni],
    ['conf/hosts.ini.example', templates.hostsIni],
    ['conf/vars.yml', templates.varsYml],
    ['conf/vars.yml.example', templates.varsYml],
  ].map(([path, content]) => {
    const data = Buffer.from(content!);
    return { path: path!, data, size: data.length };
  });
}
