/**
 * `${NAME}` in an upstream URL is filled from the environment when the upstream is used. Package archives and
 * indexes are site choices (an internal mirror, a proxy), so shared definitions name a variable, not a host. Pure.
 */
export const ENV_REF = /\$\{([A-Z][A-Z0-9_]*)\}/g;

export function expandEnv(value: string, env: NodeJS.ProcessEnv = process.env): { value: string; missing: string[] } {
  const missing: string[] = [];
  const out = value.replace(ENV_REF, (_, name: string) => {
    const v = env[name];
    if (v === undefined || v === '') {
      missing.push(name);
      return '';
    }
    return v;
  });
  return { value: out, missing };
}

/** An http(s) URL, or one whose scheme and host come from a variable. */
export const URL_OR_ENV = /^(https?:\/\/\S+|\$\{[A-Z][A-Z0-9_]*\}\S*)$/;
