/**
 * `/etc/pip.conf` for a node: the bundle's mirror as the only index. The install side writes it (keeping a backup
 * of an existing file); only the text is decided here. Pure.
 */
export function renderPipConf(mirrorBaseUrl: string): string {
  const base = new URL(mirrorBaseUrl);
  const index = new URL('/pypi/simple/', base).toString();
  return `[global]\nindex-url = ${index}\ntrusted-host = ${base.hostname}\n`;
}
