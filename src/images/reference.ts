import { InputError } from '../errors.js';

/**
 * Image references, normalised the way docker and containerd do it (distribution/reference "ParseNormalizedNamed"):
 * `busybox` is `docker.io/library/busybox:latest`. Pure.
 */
export interface ImageRef {
  /** Registry host as users name it: `docker.io`, `quay.io`, `127.0.0.1:5000`. */
  registry: string;
  /** Repository path inside the registry: `library/busybox`. */
  repo: string;
  tag?: string;
  /** `sha256:<64 hex>`; when given it is the pin the pulled manifest must match. */
  digest?: string;
}

export const DOCKER_HUB = 'docker.io';
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
export const DIGEST = /^sha256:[a-f0-9]{64}$/;
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?$|^\[[0-9a-fA-F:]+\](?::[0-9]+)?$/;

export function isRepoComponent(s: string): boolean {
  return COMPONENT.test(s);
}
export function isTag(s: string): boolean {
  return TAG.test(s);
}
export function isDomain(s: string): boolean {
  return DOMAIN.test(s);
}

/** Does the first path component name a registry (docker's rule: it has a dot or a port, or is localhost)? */
export function looksLikeRegistry(component: string): boolean {
  return (component.includes('.') || component.includes(':') || component === 'localhost' || component.startsWith('[')) && isDomain(component);
}

/** Parse and normalise; throws InputError naming the reference when it is not one. */
export function parseReference(input: string): ImageRef {
  const bad = (why: string) => new InputError(`image reference "${input}": ${why}`);
  let rest = input.trim();
  if (!rest) throw bad('empty');
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad('the digest must be sha256:<64 lowercase hex>');
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.indexOf(':', lastSlash + 1);
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(`"${tag}" is not a valid tag`);
  }
  const parts = rest.split('/');
  let registry = DOCKER_HUB;
  if (parts.length > 1 && looksLikeRegistry(parts[0]!)) registry = parts.shift()!;
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift('library');
  for (const p of parts) {
    if (!COMPONENT.test(p)) throw bad(`"${p}" is not a valid repository name component (lowercase letters, digits, . _ -)`);
  }
  const repo = parts.join('/');
  if (repo.length > 255) throw bad('repository name longer than 255 characters');
  if (!tag && !digest) tag = 'latest';
  return { registry, repo, tag, digest };
}

/** `docker.io/library/busybox`. */
export function repoName(ref: ImageRef): string {
  return `${ref.registry}/${ref.repo}`;
}

/** The full normalised reference: `docker.io/library/busybox:1.36`, `quay.io/x/y:1@sha256:…`. */
export function formatReference(ref: ImageRef): string {
  return repoName(ref) + (ref.tag ? `:${ref.tag}` : '') + (ref.digest ? `@${ref.digest}` : '');
}

/** What to ask the registry for: the pinned digest if there is one, else the tag. */
export function manifestReference(ref: ImageRef): string {
  return ref.digest ?? ref.tag!;
}
