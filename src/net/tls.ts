import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import { KsBundleError, redactUrl } from '../errors.js';

/**
 * Which hosts trust a private CA besides the system ones, and what to tell a user whose server's certificate is not
 * trusted. Only those hosts get the CA: a redirect to another host (blob storage) uses the default trust.
 */
export interface TlsTrust {
  /** `host[:port]` as `URL.host` spells it. */
  hosts: readonly string[];
  /** An https.Agent trusting the system CAs and the private one; none: the default trust. */
  agent?: Agent;
  /** Suggestion when the certificate of one of `hosts` is not trusted. */
  hint?: string;
}

/** The agent for a request to `url`: the private CA's when the host is one of `trust.hosts`, else none. */
export function agentFor(url: URL, trust: TlsTrust | undefined): Agent | undefined {
  if (!trust?.agent || url.protocol !== 'https:') return undefined;
  return trust.hosts.includes(url.host) ? trust.agent : undefined;
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

const agents = new Map<string, Promise<Agent>>();

/** One keep-alive agent per CA file, trusting the system CAs and that file's certificates. */
export function caAgent(file: string): Promise<Agent> {
  let agent = agents.get(file);
  if (!agent) {
    agent = readCaFile(file).then((pem) => new Agent({ keepAlive: true, ca: [...rootCertificates, pem] }));
    agent.catch(() => agents.delete(file));
    agents.set(file, agent);
  }
  return agent;
}

/** OpenSSL's and Node's codes for a certificate that does not verify. */
const CERT_CODES = /^(ERR_TLS_CERT_ALTNAME_INVALID|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_.*|CERT_.*|INVALID_CA|HOSTNAME_MISMATCH)$/;

/**
 * A KsBundleError naming the URL when `err` is a certificate that did not verify (fetch wraps it in a cause), so it
 * is reported at once instead of retried; undefined for anything else.
 */
export function untrustedCertificate(url: URL | string, err: unknown, trust: TlsTrust | undefined): KsBundleError | undefined {
  for (let e: any = err, depth = 0; e && depth < 4; e = e.cause, depth++) {
    if (typeof e.code !== 'string' || !CERT_CODES.test(e.code)) continue;
    const u = new URL(url);
    const hint = trust?.hint && trust.hosts.includes(u.host) ? trust.hint : 'This machine does not trust the certificate of that server.';
    return new KsBundleError('NETWORK', `${redactUrl(u.toString())}: TLS certificate not trusted (${e.code}: ${e.message})`, { hint, cause: err });
  }
  return undefined;
}
