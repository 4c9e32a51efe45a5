/** Core metadata (METADATA / PKG-INFO, RFC 822 style): the fields the resolver needs. Pure. */

export interface CoreMetadata {
  name: string;
  version: string;
  requiresPython?: string;
  requiresDist: string[];
  providesExtra: string[];
  /** PEP 639 `License-Expression` (SPDX), the free-text `License`, and the `License ::` trove classifiers. */
  licenseExpression?: string;
  license?: string;
  licenseClassifiers: string[];
}

/** Headers end at the first blank line; a line starting with whitespace continues the previous header. */
export function parseMetadata(text: string): CoreMetadata {
  const headers: Array<[string, string]> = [];
  for (const line of text.replace(/\r\n?/g, '\n').split('\n')) {
    if (line === '') break;
    if (/^[ \t]/.test(line) && headers.length) {
      headers[headers.length - 1]![1] += '\n' + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    headers.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
  }
  const all = (k: string) => headers.filter(([h]) => h === k).map(([, v]) => v);
  return {
    name: all('name')[0] ?? '',
    version: all('version')[0] ?? '',
    requiresPython: all('requires-python')[0] || undefined,
    requiresDist: all('requires-dist'),
    providesExtra: all('provides-extra'),
    licenseExpression: all('license-expression')[0] || undefined,
    license: all('license')[0] || undefined,
    licenseClassifiers: all('classifier').filter((c) => c.startsWith('License ::')),
  };
}
