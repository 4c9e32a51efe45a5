/**
 * Checks a path from a tar entry before anything is written for it. Pure. A bundle has exactly one top folder and
 * no path may leave it: no absolute paths, no `..`, no backslashes or NUL that another tool could read differently.
 */
export type EntryPathVerdict = { ok: true; top: string; rel: string } | { ok: false; reason: string };

export function checkEntryPath(raw: string): EntryPathVerdict {
  if (raw.includes('\0')) return { ok: false, reason: 'path contains a NUL byte' };
  if (raw.includes('\\')) return { ok: false, reason: 'path contains a backslash' };
  if (raw.startsWith('/')) return { ok: false, reason: 'absolute path' };
  const segments = raw.replace(/\/+$/, '').split('/');
  if (segments.some((s) => s === '..')) return { ok: false, reason: 'path contains ".."' };
  const clean = segments.filter((s) => s !== '' && s !== '.');
  if (clean.length === 0) return { ok: false, reason: 'empty path' };
  return { ok: true, top: clean[0]!, rel: clean.slice(1).join('/') };
}

/** Where a link entry at `rel` pointing at `target` lands, relative to the top folder; undefined when outside. */
export function linkTargetInside(rel: string, target: string, hard: boolean): string | undefined {
  if (target.startsWith('/')) return undefined;
  // Hard link targets are archive paths (with the top folder); symlink targets are relative to the link's folder.
  const base = hard ? [] : rel.split('/').slice(0, -1);
  const parts = hard ? target.split('/').slice(1) : target.split('/');
  const out = [...base];
  for (const p of parts) {
    if (p === '' || p === '.') continue;
    if (p === '..') {
      if (out.length === 0) return undefined;
      out.pop();
    } else out.push(p);
  }
  return out.join('/');
}
