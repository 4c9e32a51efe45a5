/**
 * The small part of Jinja that kubespray's download URL and image templates use: `{{ name }}` and
 * `{{ name | lower }}`. Anything else is an error naming the template, so a richer upstream template is noticed
 * instead of being rendered half-way. Pure.
 */
export type Vars = Readonly<Record<string, string>>;

const EXPR = /\{\{\s*([^}]*?)\s*\}\}/g;

export function renderTemplate(template: string, vars: Vars): string {
  return template.replace(EXPR, (_, expr: string) => {
    const [name, ...filters] = expr.split('|').map((s) => s.trim());
    if (!name || !/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`template "${template}": unsupported expression "${expr}"`);
    let value = vars[name];
    if (value === undefined) throw new Error(`template "${template}": variable ${name} is not defined`);
    for (const f of filters) {
      if (f === 'lower') value = value.toLowerCase();
      else throw new Error(`template "${template}": unsupported filter "${f}"`);
    }
    return value;
  });
}
