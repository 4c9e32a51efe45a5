/**
 * Talking to an upstream Debian/Ubuntu archive: the suite's signed Release, and the Packages index it vouches
 * for. Trust flows from the keyring to InRelease to the index's SHA256 to each deb's SHA256; nothing unverified
 * is parsed. Every file goes through the content store, so a second build finds the indexes in the cache.
 */
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createReadStream } from 'node:fs';
import type * as openpgp from 'openpgp';
import { HttpError, IntegrityError, InputError, KsBundleError, redactUrl } from '../errors.js';
import type { AptSource } from '../manifest/types.js';
import type { HttpClient } from '../net/client.js';
import type { OnProgress } from '../progress/events.js';
import type { ContentStore, StoredBlob } from '../store/content-store.js';
import { decompressStream } from '../util/decompress.js';
import { readKeyring, SignatureError, verifyDetached, verifyInRelease } from './pgp.js';
import { packagesCandidates, parseRelease, unsignedCleartextBody, type Release } from './release.js';

import type { Limiter } from '../util/concurrency.js';
export interface UpstreamOptions {
  http: HttpClient;
  store: ContentStore;
  onProgress?: OnProgress;
  /** The clock for Valid-Until (tests may pin it). */
  now?: Date;
  /** The build's request limiter; every request here runs through it when given. */
  requests?: Limiter;
}

/** `work` through the limiter when there is one. */
function limited<T>(opts: UpstreamOptions, work: () => Promise<T>): Promise<T> {
  return opts.requests ? opts.requests.run(work) : work();
}

/**
 * What apt checks besides the signature: a signed but stale Release (past its Valid-Until) could replay old,
 * vulnerable packages; a signed Release of another suite could swap a whole distribution in.
 */
export function checkFreshAndNamed(release: Release, suite: string, distsUrl: string, now: Date): void {
  const validUntil = release.fields['Valid-Until'] ? new Date(release.fields['Valid-Until']) : undefined;
  if (validUntil && !Number.isNaN(validUntil.getTime()) && validUntil < now) {
    throw new IntegrityError(`${redactUrl(distsUrl)}: the Release expired on ${validUntil.toISOString()} (Valid-Until)`, {
      hint: 'The mirror serves stale metadata; use an up-to-date mirror.',
    });
  }
  const names = [release.fields['Suite'], release.fields['Codename']].filter(Boolean);
  if (names.length && !names.includes(suite)) {
    throw new IntegrityError(`${redactUrl(distsUrl)}: the Release is for ${names.join('/')}, not ${suite}`, {
      hint: 'The archive answered for another suite; check the suite names of the apt source.',
    });
  }
}

export interface SuiteRelease {
  source: AptSource;
  suite: string;
  /** `<url>/dists/<suite>/` */
  distsUrl: string;
  release: Release;
  /** The signed file as fetched (InRelease, or Release), stored in the content store. */
  stored: StoredBlob;
}

export function archiveRoot(source: AptSource): string {
  return source.url.replace(/\/+$/, '') + '/';
}

const keyringCache = new Map<string, Promise<openpgp.Key[]>>();

async function keyringOf(source: AptSource): Promise<openpgp.Key[]> {
  if (!source.keyring) {
    throw new InputError(`apt source ${source.name}: no keyring given`, {
      hint: 'Name the archive keyring file (keyring: /usr/share/keyrings/debian-archive-keyring.gpg), or write trusted: true to skip verification.',
    });
  }
  const path = source.keyring;
  let p = keyringCache.get(path);
  if (!p) {
    p = readFile(path).then(
      (b) => readKeyring(b),
      (err) => {
        throw new InputError(`apt source ${source.name}: cannot read keyring ${path}: ${(err as Error).message}`);
      },
    );
    keyringCache.set(path, p);
  }
  return p;
}

async function fetchBytes(url: string, what: string, opts: UpstreamOptions, okMissing: boolean): Promise<Buffer | undefined> {
  const res = await limited(opts, () => opts.http.request(url, { what, accept: (s) => okMissing && (s === 404 || s === 403) }));
  return res.ok ? res.bytes : undefined;
}

/** Fetch and verify `dists/<suite>/InRelease` (or `Release` + `Release.gpg`). */
export async function fetchSuiteRelease(source: AptSource, suite: string, opts: UpstreamOptions): Promise<SuiteRelease> {
  const distsUrl = `${archiveRoot(source)}dists/${suite}/`;
  const what = `${source.name} ${suite} Release`;
  const inRelease = await fetchBytes(distsUrl + 'InRelease', what, opts, true);
  let text: string;
  let signed: Buffer;
  try {
    if (inRelease) {
      signed = inRelease;
      text = source.trusted ? unsignedCleartextBody(inRelease.toString('utf8')) : (await verifyInRelease(inRelease.toString('utf8'), await keyringOf(source))).text;
    } else {
      const release = await fetchBytes(distsUrl + 'Release', what, opts, false);
      signed = release!;
      if (!source.trusted) {
        const sig = await fetchBytes(distsUrl + 'Release.gpg', `${what}.gpg`, opts, false);
        await verifyDetached(release!, sig!, await keyringOf(source));
      }
      text = release!.toString('utf8');
    }
  } catch (err) {
    if (err instanceof SignatureError) {
      throw new IntegrityError(`${redactUrl(distsUrl)}: the Release signature does not verify against ${source.keyring}: ${err.message}`, {
        hint: 'The archive (or something between it and this machine) served a Release its keyring does not vouch for; nothing was used.',
        cause: err,
      });
    }
    throw err;
  }
  let release: Release;
  try {
    release = parseRelease(text);
  } catch (err) {
    throw new KsBundleError('FAILED', `${redactUrl(distsUrl)}: ${(err as Error).message}`);
  }
  checkFreshAndNamed(release, suite, distsUrl, opts.now ?? new Date());
  const stored = await opts.store.put(Readable.from([signed]), {}, what);
  return { source, suite, distsUrl, release, stored };
}

export interface FetchedPackages {
  /** The uncompressed Packages file in the store. */
  blob: StoredBlob;
  /** Where it was fetched from (compressed file) and what the Release said about it. */
  url: string;
  compressed: { path: string; sha256: string; size: number; codec: string };
  plain?: { sha256: string; size: number };
}

/**
 * The `Packages` index of `<component>/binary-<arch>`: the uncompressed file is kept in the store under the
 * digest the Release lists for it, so a cached copy is used without touching the network.
 */
export async function fetchPackages(rel: SuiteRelease, component: string, arch: string, opts: UpstreamOptions): Promise<FetchedPackages | undefined> {
  const { candidates, plain } = packagesCandidates(rel.release, component, arch);
  if (!candidates.length) return undefined;
  if (plain) {
    const have = await opts.store.has(plain.sha256, plain.size);
    const c = candidates[0]!;
    if (have) return { blob: have, url: rel.distsUrl + c.file.path, compressed: { path: c.file.path, sha256: c.file.sha256, size: c.file.size, codec: c.codec }, plain };
  }
  // Mirrors do not all publish every listed form (a missing .gz, no by-hash tree): a 404 moves on to the next
  // form; a wrong digest never does (that is an integrity failure, not an absence).
  let lastMissing: unknown;
  for (const { file, codec } of candidates) {
    const urls = [rel.distsUrl + file.path];
    if (rel.release.acquireByHash) urls.unshift(`${rel.distsUrl}${dirOf(file.path)}by-hash/SHA256/${file.sha256}`);
    for (const url of urls) {
      const what = `${rel.source.name} ${rel.suite} ${file.path}`;
      let packed: StoredBlob;
      try {
        packed = await limited(opts, () => opts.http.download({ url, sha256: file.sha256, size: file.size, what }, { store: opts.store, onProgress: opts.onProgress }));
      } catch (err) {
        if (err instanceof HttpError && (err.status === 404 || err.status === 403)) {
          lastMissing = err;
          continue;
        }
        throw err;
      }
      const compressed = { path: file.path, sha256: file.sha256, size: file.size, codec };
      if (codec === 'none') return { blob: packed, url, compressed, plain };
      const blob = await opts.store.put(decompressStream(createReadStream(packed.path), codec), plain ? { sha256: plain.sha256, size: plain.size } : {}, `${what} (uncompressed)`);
      return { blob, url, compressed, plain };
    }
  }
  throw lastMissing;
}

function dirOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i + 1);
}
