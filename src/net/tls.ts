import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import { KsBundleError, redactUrl } from '../errors.js';

/**
 * Which hosts trust a private CA besides the system ones, and what to tell a user whose server's certificate is not
 * trusted. Only those hosts get the CA: a redirect to another host (blob storage) uses the default trust.
 */
export interface TlsTrust {
  /** `host[:port]` as `URL.host` spells it. */
  hosts: readonly string[];
  /** PEM text of the private CA; none: the default trust. */
  ca?: string;
  /** Suggestion when the certificate of one of `hosts` is not trusted. */
  hint?: string;
}

/** The private CA for a request to `url`, when its host is one of `trust.hosts`. */
export function privateCaFor(url: URL, trust: TlsTrust | undefined): string | undefined {
  if (!trust?.ca || url.protocol !== 'https:') return undefined;
  return trust.hosts.includes(url.host) ? trust.ca : undefined;
}

/**
 * The TLS contexts of one client: the default one (Node's CAs, plus NODE_EXTRA_CA_CERTS, which Node loads itself), and
 * one per private CA, which must name the extra CAs again because a `ca` list replaces the defaults.
 */
export class TrustStore {
  private readonly contexts = new Map<string, SecureContext>();

  constructor(private readonly extraCa: string | undefined) {}

  /** undefined: the default context. */
  contextFor(privateCa: string | undefined): SecureContext | undefined {
    if (!privateCa) return undefined;
    let ctx = this.contexts.get(privateCa);
    if (!ctx) {
      ctx = createSecureContext({ ca: [...rootCertificates, ...(this.extraCa ? [this.extraCa] : []), privateCa] });
      this.contexts.set(privateCa, ctx);
    }
    return ctx;
  }
}

const BEGIN = '-----BEGIN CERTIFICATE-----';
const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** The PEM text of a CA file, checked: readable, at least one certificate, each one parses. Errors name the file. */
export async function readCaFile(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the CA file ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const blocks = text.match(PEM_BLOCK) ?? [];
  if (!blocks.length) throw new Error(`${file} holds no PEM certificate (a "${BEGIN}" block)`);
  blocks.forEach((pem, i) => {
    try {
      new X509Certificate(pem);
    } catch (err) {
      throw new Error(`${file}: certificate ${i + 1} does not parse (${(err as Error).message})`);
    }
  });
  return blocks.join('\n') + '\n';
}

/** OpenSSL's and Node's codes for a certificate that does not verify. */
const CERT_CODES = /^(ERR_TLS_CERT_ALTNAME_INVALID|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_.*|CERT_.*|INVALID_CA|HOSTNAME_MISMATCH)$/;

/**
 * A KsBundleError naming the URL when `err` is a certificate that did not verify, so it is reported at once instead
 * of retried; undefined for anything else.
 */
export function untrustedCertificate(url: URL | string, err: unknown, trust: TlsTrust | undefined): KsBundleError | undefined {
  for (let e: any = err, depth = 0; e && depth < 4; e = e.cause, depth++) {
    if (typeof e.code !== 'string' || !CERT_CODES.test(e.code)) continue;
    const u = new URL(url);
    const hint = trust?.hint && trust.hosts.includes(u.host) ? trust.hint : 'This machine does not trust the certificate of that server (a private CA goes in NODE_EXTRA_CA_CERTS, or a registry\'s `ca`).';
    // What to do is in the message itself: a plan lists it among the sources tried, where hints are per reason.
    return new KsBundleError('NETWORK', `${redactUrl(u.toString())}: TLS certificate not trusted (${e.code}: ${e.message}). ${hint}`, { cause: err });
  }
  return undefined;
}
