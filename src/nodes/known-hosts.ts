import { createHash, createHmac, randomBytes } from 'node:crypto';

/**
 * OpenSSH `known_hosts`, pure: parse, match a host (plain patterns with `*`/`?`/`!`, hashed `|1|salt|hmac` names,
 * `[host]:port` when the port is not 22), and say whether a key is known, new or changed, as ssh does.
 */
export interface KnownHostEntry {
  line: number;
  marker?: 'cert-authority' | 'revoked';
  /** Plain patterns, or one hashed name. */
  patterns: string[];
  hashed?: { salt: Buffer; hash: Buffer };
  keyType: string;
  key: string; // base64 blob
}

export function parseKnownHosts(text: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const f = line.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (f[0] === '@cert-authority' || f[0] === '@revoked') marker = f.shift()!.slice(1) as KnownHostEntry['marker'];
    if (f.length < 3) return; // ssh skips malformed lines too
    const [hosts, keyType, key] = f as [string, string, string];
    const e: KnownHostEntry = { line: i + 1, patterns: [], keyType, key };
    if (marker) e.marker = marker;
    const h = /^\|1\|([^|]+)\|([^|]+)$/.exec(hosts);
    if (h) e.hashed = { salt: Buffer.from(h[1]!, 'base64'), hash: Buffer.from(h[2]!, 'base64') };
    else e.patterns = hosts.split(',');
    out.push(e);
  });
  return out;
}

/** The name ssh looks up: `host`, or `[host]:port` off port 22. */
export function hostKeyName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function glob(pattern: string, s: string): boolean {
  const re = new RegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$', 'i');
  return re.test(s);
}

export function entryMatches(e: KnownHostEntry, name: string): boolean {
  if (e.hashed) return createHmac('sha1', e.hashed.salt).update(name).digest().equals(e.hashed.hash);
  let hit = false;
  for (const p of e.patterns) {
    if (p.startsWith('!')) {
      if (glob(p.slice(1), name)) return false;
    } else if (glob(p, name)) hit = true;
  }
  return hit;
}

export type HostKeyStatus =
  | { status: 'known'; line: number }
  | { status: 'unknown' }
  | { status: 'changed'; line: number }
  | { status: 'revoked'; line: number };

/** As ssh decides: a revoked key is refused; a listed key is known; another key of a listed host is a change. */
export function checkHostKey(entries: KnownHostEntry[], host: string, port: number, keyType: string, key: string): HostKeyStatus {
  const names = port === 22 ? [host] : [hostKeyName(host, port)];
  const forHost = entries.filter((e) => names.some((n) => entryMatches(e, n)));
  const mine = forHost.filter((e) => !e.marker);
  const revoked = forHost.find((e) => e.marker === 'revoked' && e.key === key);
  if (revoked) return { status: 'revoked', line: revoked.line };
  const exact = mine.find((e) => e.key === key && e.keyType === keyType);
  if (exact) return { status: 'known', line: exact.line };
  const other = mine.find((e) => e.keyType === keyType);
  if (other) return { status: 'changed', line: other.line };
  return { status: 'unknown' };
}

/** Key types already listed for a host, so a client can ask the server for one of those first. */
export function knownKeyTypes(entries: KnownHostEntry[], host: string, port: number): string[] {
  const name = hostKeyName(host, port);
  return [...new Set(entries.filter((e) => !e.marker && entryMatches(e, name)).map((e) => e.keyType))];
}

/** `SHA256:<base64 without padding>` of the key blob, as `ssh-keygen -l` prints it. */
export function fingerprint(keyBase64: string): string {
  return 'SHA256:' + createHash('sha256').update(Buffer.from(keyBase64, 'base64')).digest('base64').replace(/=+$/, '');
}

/** A known_hosts line for a host key; hashed like `ssh-keygen -H` when asked. */
export function knownHostsLine(host: string, port: number, keyType: string, key: string, opts: { hash?: boolean } = {}): string {
  const name = hostKeyName(host, port);
  if (!opts.hash) return `${name} ${keyType} ${key}`;
  const salt = randomBytes(20);
  const hash = createHmac('sha1', salt).update(name).digest();
  return `|1|${salt.toString('base64')}|${hash.toString('base64')} ${keyType} ${key}`;
}

/** The key type named inside an SSH public key blob (its first string). */
export function keyTypeOfBlob(blob: Buffer): string {
  const len = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + len).toString('latin1');
}
