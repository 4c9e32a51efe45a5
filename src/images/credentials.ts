import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../errors.js';

/**
 * Registry credentials. Sources, first match wins:
 *   1. env `KS_BUNDLE_REGISTRY_AUTH_<HOST>` = `user:password`, HOST upper-cased with every non-alphanumeric
 *      character as `_` (`127.0.0.1:5000` → `KS_BUNDLE_REGISTRY_AUTH_127_0_0_1_5000`, `docker.io` → `…_DOCKER_IO`);
 *   2. the `--registry-auth FILE` (docker config.json format: `auths.<host>.auth` = base64 `user:pass`, or
 *      `username`/`password`; an `identitytoken` is refused when its registry is used, see `lookup`);
 *   3. `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`.
 * Credentials stay in memory: nothing here formats them into a message.
 */
export interface Credential {
  username?: string;
  password?: string;
  /**
   * Where docker's `identitytoken` (an OAuth2 refresh token) was found, when there is one. ks-bundle does not run the
   * refresh-token exchange, so using this registry is refused with a hint instead of silently going anonymous.
   */
  identityTokenIn?: string;
}

export type CredentialLookup = (host: string) => Credential | undefined;

export interface CredentialSources {
  authFile?: string;
  env?: NodeJS.ProcessEnv;
  /** The docker config file; defaults to $DOCKER_CONFIG/config.json or ~/.docker/config.json. */
  dockerConfig?: string | false;
}

export function envName(host: string): string {
  return 'KS_BUNDLE_REGISTRY_AUTH_' + host.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

/** Docker Hub's credentials are stored under the v1 index URL by `docker login`. */
const HUB_ALIASES = ['docker.io', 'index.docker.io', 'registry-1.docker.io', 'https://index.docker.io/v1/', 'https://index.docker.io/v1'];

/** Parse a docker config.json's `auths` into a host → credential map. Pure; `file` is only for messages. */
export function parseDockerConfig(text: string, file: string): Map<string, Credential> {
  let doc: any;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${file}: not valid JSON (${(err as Error).message.replace(/"[^"]*"/g, '…')})`);
  }
  const out = new Map<string, Credential>();
  const auths = doc?.auths;
  if (!auths || typeof auths !== 'object') return out;
  for (const [key, value] of Object.entries<any>(auths)) {
    if (!value || typeof value !== 'object') continue;
    const host = hostOfKey(key);
    let cred: Credential | undefined;
    if (typeof value.auth === 'string' && value.auth) {
      const decoded = Buffer.from(value.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) throw new InputError(`${file}: auths."${key}".auth is not base64 of user:password`);
      cred = { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    } else if (typeof value.username === 'string') {
      cred = { username: value.username, password: String(value.password ?? '') };
    }
    if (typeof value.identitytoken === 'string' && value.identitytoken) cred = { ...cred, identityTokenIn: `${file}: auths."${key}"` };
    if (cred) out.set(host, cred);
  }
  return out;
}

function hostOfKey(key: string): string {
  if (HUB_ALIASES.includes(key)) return 'docker.io';
  const m = /^(?:https?:\/\/)?([^/]+)/.exec(key);
  return m ? m[1]! : key;
}

export async function loadCredentials(sources: CredentialSources = {}): Promise<CredentialLookup> {
  const env = sources.env ?? process.env;
  const files: Array<Map<string, Credential>> = [];
  if (sources.authFile) files.push(parseDockerConfig(await readRequired(sources.authFile), sources.authFile));
  if (sources.dockerConfig !== false) {
    const path = sources.dockerConfig ?? join(env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');
    const text = await readFile(path, 'utf8').catch(() => undefined);
    if (text !== undefined) files.push(parseDockerConfig(text, path));
  }
  return (host: string) => {
    const fromEnv = env[envName(host)];
    if (fromEnv) {
      const colon = fromEnv.indexOf(':');
      if (colon > 0) return { username: fromEnv.slice(0, colon), password: fromEnv.slice(colon + 1) };
    }
    for (const m of files) {
      const c = m.get(host) ?? (host === 'docker.io' ? undefined : m.get(host.replace(/:443$/, '')));
      if (c?.identityTokenIn) {
        throw new InputError(`${c.identityTokenIn} holds an identitytoken (an OAuth2 refresh token) for ${host}; ks-bundle cannot exchange it for access`, {
          hint: `Give ${host} a user and password (a registry's access token goes in as the password): ${envName(host)}=user:password, which is used first, or --registry-auth FILE with auths."${host}".auth.`,
        });
      }
      if (c) return c;
    }
    return undefined;
  };
}

async function readRequired(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new InputError(`--registry-auth ${file}: ${(err as NodeJS.ErrnoException).code ?? 'cannot read'}`);
  }
}
