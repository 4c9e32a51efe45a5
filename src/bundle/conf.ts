import type { BundleEntry } from '../bundle/entry.js';
import { HOSTS_INI_TEMPLATE, VARS_YML_TEMPLATE } from '../nodes/templates.js';

/**
 * conf/hosts.ini and conf/vars.yml are the user's to edit, so SHA256SUMS does not cover them; the pristine copies
 * beside them (.example) are covered, so a changed template is still caught.
 */
export function confEntries(): BundleEntry[] {
  return [
    ['conf/hosts.ini', HOSTS_INI_TEMPLATE],
    ['conf/hosts.ini.example', HOSTS_INI_TEMPLATE],
    ['conf/vars.yml', VARS_YML_TEMPLATE],
    ['conf/vars.yml.example', VARS_YML_TEMPLATE],
  ].map(([path, content]) => {
    const data = Buffer.from(content!);
    return { path: path!, data, size: data.length };
  });
}
