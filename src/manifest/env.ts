/**
 * `${NAME}` in an upstream URL is filled from the environment when the upstream is used; `${NAME:-DEFAULT}` falls
 * back to DEFAULT when NAME is unset or empty (as in a shell). DEFAULT is a URL (`${KS_BUNDLE_PYPI_INDEX:-https://pypi.org/simple}`)
 * or one of the build machine's own archives (`${KS_BUNDLE_DEBIAN_MIRROR:-build-machine:debian}`), so a shared
 * definition works without setup and a site still points it at its own mirror. Pure.
 */
export const ENV_REF = /\$\{([A-Z][A-Z0-9_]*)(?::-([^}]*))?\}/g;

/** The archives a default can name, as `build-machine:<name>`. */
export const BUILD_MACHINE_ARCHIVES = ['debian', 'debian-security'] as const;
export type BuildMachineArchive = (typeof BUILD_MACHINE_ARCHIVES)[number];
const BUILD_MACHINE_PREFIX = 'build-machine:';

/**
 * What the build machine's own apt uses, read at the edge (src/apt/host-sources.ts): a URL per archive it has, and
 * for each it lacks, why (shown to the user next to the variable to set).
 */
export interface BuildMachineArchives {
  urls: Partial<Record<BuildMachineArchive, string>>;
  why: Partial<Record<BuildMachineArchive, string>>;
}

export const NO_BUILD_MACHINE: BuildMachineArchives = { urls: {}, why: {} };

/** A variable that has no value and whose default (if any) gave none either. */
export interface MissingVariable {
  name: string;
  /** Why the default did not apply (e.g. the build machine runs no Debian). */
  why?: string;
}

export function expandEnv(
  value: string,
  env: NodeJS.ProcessEnv = process.env,
  machine: BuildMachineArchives = NO_BUILD_MACHINE,
): { value: string; missing: MissingVariable[] } {
  const missing: MissingVariable[] = [];
  const out = value.replace(ENV_REF, (_, name: string, fallback: string | undefined) => {
    const v = env[name];
    if (v !== undefined && v !== '') return v;
    if (fallback === undefined || fallback === '') {
      missing.push({ name });
      return '';
    }
    const archive = buildMachineArchiveOf(fallback);
    if (!archive) return fallback;
    const url = machine.urls[archive];
    if (url) return url;
    missing.push({ name, why: machine.why[archive] ?? `this machine's apt sources were not read` });
    return '';
  });
  return { value: out, missing };
}

/** `build-machine:debian` → `debian`; undefined for anything else (a URL default). */
export function buildMachineArchiveOf(fallback: string): BuildMachineArchive | undefined {
  if (!fallback.startsWith(BUILD_MACHINE_PREFIX)) return undefined;
  const name = fallback.slice(BUILD_MACHINE_PREFIX.length);
  return (BUILD_MACHINE_ARCHIVES as readonly string[]).includes(name) ? (name as BuildMachineArchive) : undefined;
}

/**
 * The defaults in a value that are neither an http(s) URL nor a known build-machine archive, each with what is wrong,
 * so a typo is reported where it is written rather than as a strange URL at build time.
 */
export function badDefaults(value: string): string[] {
  const out: string[] = [];
  for (const m of value.matchAll(ENV_REF)) {
    const fallback = m[2];
    if (fallback === undefined) continue;
    if (fallback === '') out.push(`\${${m[1]}:-} has an empty default: drop ":-", or give a URL`);
    else if (fallback.startsWith(BUILD_MACHINE_PREFIX) && !buildMachineArchiveOf(fallback))
      out.push(`"${fallback}" is not an archive of the build machine (known: ${BUILD_MACHINE_ARCHIVES.map((a) => BUILD_MACHINE_PREFIX + a).join(', ')})`);
    else if (!fallback.startsWith(BUILD_MACHINE_PREFIX) && !/^https?:\/\/\S+$/.test(fallback)) out.push(`the default "${fallback}" of \${${m[1]}} is not an http(s) URL`);
  }
  return out;
}

/** An http(s) URL, or one whose scheme and host come from a variable (with or without a default). */
export const URL_OR_ENV = /^(https?:\/\/\S+|\$\{[A-Z][A-Z0-9_]*(:-[^}\s]*)?\}\S*)$/;
