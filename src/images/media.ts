/** Manifest media types and the pure parsing of manifests and indexes. */
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_SCHEMA1 = ['application/vnd.docker.distribution.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v1+prettyjws'];

export const MANIFEST_ACCEPT = [OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST].join(', ');
export const REF_NAME = 'org.opencontainers.image.ref.name';
/** Registries cap manifests at 4 MiB; so do we, so a hostile upstream cannot make us buffer a layer. */
export const MAX_MANIFEST = 4 << 20;

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
  urls?: string[];
}

export type ParsedManifest =
  | { kind: 'index'; mediaType: string; manifests: Descriptor[] }
  | { kind: 'image'; mediaType: string; config: Descriptor; layers: Descriptor[] };

export function isIndexType(mediaType: string): boolean {
  return mediaType === OCI_INDEX || mediaType === DOCKER_LIST;
}

export function isManifestType(mediaType: string): boolean {
  return mediaType === OCI_INDEX || mediaType === DOCKER_LIST || mediaType === OCI_MANIFEST || mediaType === DOCKER_MANIFEST;
}

/**
 * Parse manifest bytes. `headerType` is the Content-Type the registry sent (or the descriptor's media type): OCI
 * manifests may omit `mediaType`, so the header decides then. Throws a plain Error on anything else; the
 * caller names the image.
 */
export function parseManifest(bytes: Buffer | string, headerType?: string): ParsedManifest {
  const doc = JSON.parse(bytes.toString()) as any;
  if (!doc || typeof doc !== 'object') throw new Error('manifest is not a JSON object');
  if (doc.schemaVersion === 1 || DOCKER_SCHEMA1.includes(headerType ?? '')) {
    throw new Error('Docker schema 1 manifests are not supported (deprecated since 2017); re-push the image with a current client');
  }
  const mediaType: string = doc.mediaType ?? (isManifestType(headerType ?? '') ? headerType : Array.isArray(doc.manifests) ? OCI_INDEX : OCI_MANIFEST);
  if (Array.isArray(doc.manifests)) {
    return { kind: 'index', mediaType, manifests: doc.manifests.map(checkDescriptor) };
  }
  if (doc.config && Array.isArray(doc.layers)) {
    return { kind: 'image', mediaType, config: checkDescriptor(doc.config), layers: doc.layers.map(checkDescriptor) };
  }
  throw new Error(`unknown manifest shape (media type ${mediaType})`);
}

function checkDescriptor(d: any): Descriptor {
  if (!d || typeof d.digest !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(d.digest)) {
    throw new Error(`descriptor with an unsupported digest: ${JSON.stringify(d?.digest)}`);
  }
  if (!Number.isSafeInteger(d.size) || d.size < 0) throw new Error(`descriptor ${d.digest} without a valid size`);
  return d as Descriptor;
}

export function platformString(p: Platform | undefined): string {
  if (!p) return 'unknown platform';
  return `${p.os}/${p.architecture}${p.variant ? '/' + p.variant : ''}`;
}

/**
 * Does a descriptor of an index belong to one of the wanted os/arch pairs? Attestation manifests
 * (`unknown/unknown`, buildkit's provenance) and descriptors without a platform are left out.
 */
export function platformWanted(p: Platform | undefined, wanted: Array<{ os: string; arch: string }>): boolean {
  if (!p) return false;
  return wanted.some((w) => w.os === p.os && w.arch === p.architecture);
}

export function hexOf(digest: string): string {
  return digest.slice('sha256:'.length);
}
