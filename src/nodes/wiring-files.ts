/**
 * The content of each file a node is wired with, in the format its client already reads (pure functions; the
 * writing, with backups, is wiring.ts). Nothing here falls back to the internet: the mirror is the only source.
 */

/** `http://10.0.0.1:5080/` → `10.0.0.1:5080`. */
export function hostPort(mirrorUrl: string): string {
  return new URL(mirrorUrl).host;
}

function base(mirrorUrl: string): string {
  return mirrorUrl.replace(/\/+$/, '');
}

/**
 * A deb822 apt source for one of the bundle's repos (`/apt/<distro>-<release>/` on the mirror), trusted only
 * through `signed-by` (the bundle's key installed on the node, e.g. /etc/apt/keyrings/ks-bundle.gpg).
 */
export function aptSource(opts: { mirrorUrl: string; repo: string; suites: string[]; components: string[]; signedBy: string; architectures?: string[] }): string {
  const lines = [
    '# Written by ks-bundle: the offline mirror is the only package source. `ks-bundle nodes restore` undoes it.',
    'Types: deb',
    `URIs: ${base(opts.mirrorUrl)}/apt/${opts.repo}/`,
    `Suites: ${opts.suites.join(' ')}`,
    `Components: ${opts.components.join(' ')}`,
    `Signed-By: ${opts.signedBy}`,
  ];
  if (opts.architectures?.length) lines.push(`Architectures: ${opts.architectures.join(' ')}`);
  return lines.join('\n') + '\n';
}

/** /etc/pip.conf: the mirror's simple index, and no other (no extra-index-url, no find-links). */
export function pipConf(opts: { mirrorUrl: string }): string {
  return [
    '# Written by ks-bundle: pip installs from the offline mirror only.',
    '[global]',
    `index-url = ${base(opts.mirrorUrl)}/pypi/simple/`,
    `trusted-host = ${new URL(opts.mirrorUrl).hostname}`,
    'disable-pip-version-check = true',
    '',
  ].join('\n');
}

/**
 * containerd `certs.d/<registry>/hosts.toml`: the mirror is the `server` itself (not only a `[host]` in front of
 * the upstream), so an image the bundle lacks fails at once instead of being fetched from the internet.
 */
export function containerdHostsToml(opts: { mirrorUrl: string }): string {
  const m = base(opts.mirrorUrl);
  return [
    '# Written by ks-bundle: pulls go to the offline mirror only.',
    `server = "${m}"`,
    '',
    `[host."${m}"]`,
    '  capabilities = ["pull", "resolve"]',
    '',
  ].join('\n');
}

/** The path of that file for one registry: docker.io, quay.io, registry.k8s.io:5000 (":" kept, as containerd does). */
export function containerdHostsPath(registry: string, certsDir = '/etc/containerd/certs.d'): string {
  if (!/^[A-Za-z0-9.-]+(:\d+)?$/.test(registry)) throw new Error(`not a registry host: ${registry}`);
  return `${certsDir}/${registry}/hosts.toml`;
}

/**
 * docker's daemon.json merged, not overwritten: the mirror goes first in `registry-mirrors` and into
 * `insecure-registries` when it is plain HTTP; every other setting is kept as it was. Invalid JSON is an error
 * (never replaced: it is the user's file).
 */
export function mergeDaemonJson(existing: string | undefined, opts: { mirrorUrl: string }): string {
  let doc: Record<string, unknown> = {};
  if (existing !== undefined && existing.trim() !== '') {
    const parsed: unknown = JSON.parse(existing);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('daemon.json is not a JSON object');
    doc = parsed as Record<string, unknown>;
  }
  const m = base(opts.mirrorUrl);
  const list = (k: string): string[] => {
    const v = doc[k];
    if (v === undefined) return [];
    if (!Array.isArray(v)) throw new Error(`daemon.json: ${k} is not a list`);
    return v.map(String);
  };
  const mirrors = list('registry-mirrors').filter((x) => x.replace(/\/+$/, '') !== m);
  doc['registry-mirrors'] = [m, ...mirrors];
  if (m.startsWith('http://')) {
    const insecure = list('insecure-registries');
    if (!insecure.includes(hostPort(m))) doc['insecure-registries'] = [...insecure, hostPort(m)];
  }
  return JSON.stringify(doc, null, 2) + '\n';
}
