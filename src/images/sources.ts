import type { BuildContext, SourceTried } from '../collector/context.js';
import { firstAvailable } from '../collector/run.js';
import { InputError, KsBundleError } from '../errors.js';
import type { Alternate } from '../manifest/types.js';
import { sourcesOf } from '../manifest/alternates.js';
import { RegistryClient, baseUrlFor, caFor, registryTrust, type RegistrySettingsLike } from './client.js';
import { loadCredentials, type CredentialLookup } from './credentials.js';
import { formatReference, parseReference, type ImageRef } from './reference.js';
import { resolveImage, type ResolvedImage } from './resolve.js';

export type ClientFor = (registry: string) => Promise<RegistryClient>;

/**
 * One RegistryClient per registry the build talks to, an original's or an alternate's, opened on first use. Each
 * gets its own `spec.registries` settings (endpoint, insecure, CA) and credentials, by its own name.
 */
export function registryClients(ctx: BuildContext): ClientFor {
  const { manifest } = ctx;
  const settings = (manifest.registries ?? {}) as Record<string, RegistrySettingsLike>;
  let credentials: Promise<CredentialLookup> | undefined;
  const clients = new Map<string, Promise<RegistryClient>>();
  const open = async (registry: string) => {
    const base = baseUrlFor(registry, settings);
    const ca = caFor(registry, settings);
    const tls = await registryTrust([new URL(base).host, registry], ca?.file, `registries."${ca?.key ?? registry}".ca in ${manifest.file}`);
    credentials ??= loadCredentials({ authFile: ctx.registryAuthFile });
    return new RegistryClient(registry, base, await credentials, ctx.http, tls);
  };
  return (registry) => {
    let c = clients.get(registry);
    if (!c) clients.set(registry, (c = open(registry)));
    return c;
  };
}

export interface SourcesOptions {
  ctx: BuildContext;
  clientFor: ClientFor;
  alternates: readonly Alternate[];
  wanted: Array<{ os: string; arch: string }>;
  lockedDigest?: string;
}

/**
 * Resolve one image from the first source that has it: its original name, then each alternate in order. A source
 * that has not got it (not found, unauthorized, unreachable, another digest than the pin) is recorded in `tried`
 * and the next one is asked; unpinned, the first that answers wins. The image keeps its original name.
 */
export async function resolveFromSources(original: ImageRef, opts: SourcesOptions): Promise<{ image?: ResolvedImage; tried: SourceTried[] }> {
  const name = formatReference(original);
  const sources = sourcesOf(name, opts.alternates).map((text) => ({ text, ref: text === name ? original : alternateRef(text, name) }));
  const { ctx, clientFor, wanted, lockedDigest } = opts;
  const got = await firstAvailable(
    sources,
    async ({ ref }) => {
      try {
        const client = await clientFor(ref.registry);
        return await ctx.requests.run(() => resolveImage(ref, { client, store: ctx.store, wanted, lockedDigest, name }));
      } catch (err) {
        throw asNetworkError(err);
      }
    },
    (s) => s.text,
  );
  return { image: got.value, tried: got.tried };
}

function alternateRef(text: string, original: string): ImageRef {
  try {
    return parseReference(text);
  } catch (err) {
    throw new InputError(`spec.alternates turns ${original} into ${text}, which is not an image reference: ${(err as Error).message}`, {
      hint: 'An image alternate maps a reference prefix to reference prefixes, each ending with "/" (docker.io/kubesphere/ → registry.cn-beijing.aliyuncs.com/kubesphereio/).',
    });
  }
}

/**
 * The HTTP client has already turned every socket failure into a network error naming the host and the proxy; a
 * network error's hint is about this source (which CA file would trust it), so it goes into the message that lists
 * the sources tried. Anything else (a cache file that cannot be read, say) is not about the source and stops the build.
 */
function asNetworkError(err: unknown): unknown {
  // One that says why already (a reason set by the HTTP client) keeps its words.
  if (!(err instanceof KsBundleError) || err.code !== 'NETWORK' || err.reason || !err.hint || err.message.includes(err.hint)) return err;
  return new KsBundleError('NETWORK', `${err.message}. ${err.hint}`, { reason: 'network', hint: err.hint, cause: err });
}
