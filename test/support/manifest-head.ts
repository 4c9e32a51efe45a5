/**
 * The lines a test's bundle manifest starts with: its name and version, one Debian 12 amd64 target, and this
 * machine's node as the runtime (nothing to download for it). The spec's own lines follow, indented by two spaces.
 */
export function manifestHead(name: string, version = '1.0.0'): string {
  return `apiVersion: ks-bundle/v1\nkind: BundleManifest\nmetadata: {name: ${name}, version: ${version}}\nspec:\n  targets: [{os: debian-12, arch: amd64}]\n  runtime: {source: local}\n`;
}
