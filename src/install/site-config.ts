import { readFile } from 'node:fs/promises';
import { InputError } from '../errors.js';
import { loadYamlLimited, YamlLimitError } from '../util/yaml.js';

/**
 * The taskbox's own settings, kept outside any bundle (a bundle cannot loosen them): `/etc/ks-bundle/config.yaml`.
 *
 *   signatureKey: /etc/ks-bundle/vendor-public.asc   # every install --offline checks the bundle's signature
 */
export const SITE_CONFIG_FILE = '/etc/ks-bundle/config.yaml';

export interface SiteConfig {
  /** When set, every install must come from a tarball (or .parts) whose `.asc` this key verifies. */
  signatureKey?: string;
}

/** A missing file means no site settings; a present but wrong one is refused, never half-applied. */
export async function readSiteConfig(file: string): Promise<SiteConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err: any) {
    if (err.code === 'ENOENT') return {};
    throw new InputError(`${file}: cannot read the taskbox's ks-bundle settings (${err.code ?? err.message})`);
  }
  let doc: unknown;
  try {
    doc = loadYamlLimited(text, { limits: { maxBytes: 64 << 10 } });
  } catch (err) {
    const e = err as YamlLimitError;
    throw new InputError(`${file}:${e.line ?? 1}: ${e.message}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new InputError(`${file}: expected a mapping of settings`);
  const config: SiteConfig = {};
  for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
    if (k === 'signatureKey' && typeof v === 'string' && v) config.signatureKey = v;
    else throw new InputError(`${file}: ${k}: ${k === 'signatureKey' ? 'expected the path of a public key file' : 'unknown setting (known: signatureKey)'}`);
  }
  return config;
}
