/**
 * Names that come from a bundle (its name and version, an OS, a registry host, a playbook) and become part of a path
 * on this machine or on a node. Checked here, once, before they are used: a name is one path component, never a way
 * out of the folder it is joined to. Pure.
 */

/** Longest name accepted; file systems allow 255 bytes, and a name is often joined with another (`<name>-<version>`). */
export const MAX_NAME_BYTES = 120;

/**
 * Why `name` cannot be one path component, or undefined when it can. Refused: empty, `.` and `..`, `/` and `\`, NUL
 * and every other control character (they also reach a terminal when printed), a leading `-` (read as an option by
 * the tools a path is given to), and names over MAX_NAME_BYTES.
 */
export function pathComponentProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (name === '.' || name === '..') return `is "${name}"`;
  if (name.includes('/')) return 'contains "/"';
  if (name.includes('\\')) return 'contains "\\"';
  // C0, DEL and C1 controls: NUL cuts a path short in the kernel, the others are terminal escapes.
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) return 'contains a control character';
  if (name.startsWith('-')) return 'starts with "-"';
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) return `is longer than ${MAX_NAME_BYTES} bytes`;
  return undefined;
}

/**
 * Why `path` cannot be a relative path under a root (`roles/site.yml`), or undefined when it can: each `/`-separated
 * segment must pass pathComponentProblem, so no absolute path, no `..`, no empty segment.
 */
export function relativePathProblem(path: string): string | undefined {
  if (path.startsWith('/')) return 'is an absolute path';
  for (const segment of path.split('/')) {
    const problem = pathComponentProblem(segment);
    if (problem) return `has a segment that ${problem}`;
  }
  return undefined;
}

/** A name for a message: JSON quoting, so control characters and escapes are shown, never sent to the terminal. */
export function quoteName(name: string): string {
  return JSON.stringify(name);
}
