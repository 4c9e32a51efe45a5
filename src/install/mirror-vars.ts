import yaml from 'js-yaml';
import { renderMirrorVars } from '../kubespray/mirror-vars.js';
import type { BundleInfo } from './bundle-info.js';

/**
 * The vars file every playbook run gets: where the mirror serves each kind, for any playbook (`ks_bundle_*`), and
 * kubespray's offline variables when the bundle's playbooks are kubespray.
 */
export function renderInstallVars(info: BundleInfo, mirror: { host: string; port: number }): string {
  const base = `http://${mirror.host.includes(':') ? `[${mirror.host}]` : mirror.host}:${mirror.port}`;
  const generic = {
    ks_bundle_mirror: base,
    ks_bundle_registry: `${mirror.host}:${mirror.port}`,
    ks_bundle_registries: info.registries,
    ks_bundle_files_url: `${base}/files`,
    ks_bundle_pip_index_url: `${base}/pypi/simple/`,
    ks_bundle_apt_repos: Object.fromEntries([...info.aptRepos.keys()].map((os) => [os, `${base}/apt/${os}`])),
  };
  const text = '# Written by ks-bundle install: every download points at the offline mirror.\n' + yaml.dump(generic, { lineWidth: 200 });
  if (!info.kubespray) return text;
  const vars = renderMirrorVars({ mirrorHost: mirror.host, port: mirror.port, bundle: { targets: info.targets }, settings: info.kubespray.settings });
  return text + vars.replace(/^---\n/, '');
}
