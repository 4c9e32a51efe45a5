import { PackageURL } from 'packageurl-js';

/**
 * Package URLs as the purl spec writes them, e.g. `pkg:oci/busybox@sha256%3A…?repository_url=docker.io/library/busybox&tag=1.36`.
 * packageurl-js checks and normalises the parts (a pypi name is lowercased, `_` becomes `-`); the string is
 * rendered here so that `:` in a version is `%3A` and `/` in a qualifier stays readable, as the spec's own examples
 * are written (both spellings decode to the same purl). Pure.
 */
export function purl(type: string, namespace: string | undefined, name: string, version: string | undefined, qualifiers: Record<string, string> = {}): string {
  const p = new PackageURL(type, namespace, name, version, Object.keys(qualifiers).length ? qualifiers : undefined);
  const seg = (s: string) => encodeURIComponent(s);
  const qual = (s: string) => encodeURIComponent(s).replace(/%2F/g, '/').replace(/%3A/g, ':');
  let out = `pkg:${p.type}/`;
  if (p.namespace) out += p.namespace.split('/').map(seg).join('/') + '/';
  out += seg(p.name);
  if (p.version) out += '@' + seg(p.version);
  const q = Object.entries(p.qualifiers ?? {}).filter(([, v]) => v !== undefined && v !== '');
  if (q.length) out += '?' + q.sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${qual(String(v))}`).join('&');
  return out;
}
