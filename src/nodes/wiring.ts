import { randomBytes } from 'node:crypto';
import { NodeError, shq } from './node-error.js';
import type { NodeSession } from './session.js';

/**
 * Files the installer changes on a node, each with a way back:
 * - before the first change, `<file>.ks-bundle.bak` keeps the original (cp -p: bytes, mode, owner, times); when
 *   the file did not exist, `<file>.ks-bundle.absent` says so. A rerun never touches an existing backup, so the
 *   pristine original survives any number of runs.
 * - every path changed is listed once in BACKUP_LIST, which `restoreFiles` walks; every folder made for a new file
 *   is listed in DIRS_LIST, and restore removes it again if it is empty.
 * - the same content again changes nothing and reports `unchanged`.
 * A batch of changes is one shell script run as root in one round trip.
 */
/** Where a node keeps what the installer changed, so that `nodes restore` can undo it. */
const STATE_ROOT = '/var/lib/ks-bundle';
const STATE_DIR = `${STATE_ROOT}/wiring`;
export const BACKUP_LIST = `${STATE_DIR}/changed-files`;
export const DIRS_LIST = `${STATE_DIR}/created-dirs`;
export const BAK = '.ks-bundle.bak';
export const ABSENT = '.ks-bundle.absent';

export type WriteOutcome = 'created' | 'changed' | 'unchanged';

// backup PATH: keep the original (or an absent marker) unless a backup exists already; list PATH once.
const BACKUP_FN = `backup() {
  if [ ! -e "$1${BAK}" ] && [ ! -e "$1${ABSENT}" ]; then
    if [ -e "$1" ] || [ -L "$1" ]; then cp -a -- "$1" "$1${BAK}"; else : > "$1${ABSENT}"; fi
  fi
  grep -qxF -- "$1" "${BACKUP_LIST}" 2>/dev/null || printf '%s\\n' "$1" >> "${BACKUP_LIST}"
}`;

// write PATH MODE TMP: put TMP (already next to PATH) in place unless PATH already holds the same bytes.
const WRITE_FN = `write() {
  if [ -f "$1" ] && cmp -s "$3" "$1"; then rm -f "$3"; echo unchanged; return; fi
  if [ -e "$1" ]; then out=changed; chmod --reference="$1" "$3"; chown --reference="$1" "$3"; else out=created; chmod "$2" "$3"; fi
  backup "$1"
  mv -f "$3" "$1"
  echo $out
}`;

// mkdirs DIR: make DIR and its missing parents, listing each one made (a rerun finds them and lists nothing).
const MKDIRS_FN = `mkdirs() {
  if [ -z "$1" ] || [ -d "$1" ]; then return 0; fi
  mkdirs "\${1%/*}"
  mkdir -- "$1"
  grep -qxF -- "$1" "${DIRS_LIST}" 2>/dev/null || printf '%s\\n' "$1" >> "${DIRS_LIST}"
}`;

const REMOVE_FN = `remove() {
  if [ ! -e "$1" ] && [ ! -L "$1" ]; then echo unchanged; return; fi
  backup "$1"
  rm -f -- "$1"
  echo changed
}`;

// Files first, then the folders made for them, deepest first; rmdir leaves alone any that now hold something else.
const RESTORE_SCRIPT = `set -e
if [ -f "${BACKUP_LIST}" ]; then
  while IFS= read -r f; do
    if [ -e "$f${BAK}" ] || [ -L "$f${BAK}" ]; then rm -f -- "$f"; mv -f -- "$f${BAK}" "$f"; echo "restored $f"
    elif [ -e "$f${ABSENT}" ]; then rm -f -- "$f" "$f${ABSENT}"; echo "removed $f"
    fi
  done < "${BACKUP_LIST}"
  rm -f "${BACKUP_LIST}"
fi
if [ -f "${DIRS_LIST}" ]; then
  sort -r "${DIRS_LIST}" | while IFS= read -r d; do
    if rmdir -- "$d" 2>/dev/null; then echo "removed $d/"; fi
  done
  rm -f "${DIRS_LIST}"
fi
rmdir -- "${STATE_DIR}" "${STATE_ROOT}" 2>/dev/null || true`;

function checkPath(node: string, path: string): void {
  if (!path.startsWith('/') || /[\n\r]/.test(path) || path.split('/').includes('..')) {
    throw new NodeError(node, `refusing to wire an unsafe path: ${JSON.stringify(path)}`);
  }
}

export type FileChange = { path: string; content: string | Buffer; mode?: number } | { path: string; remove: true };

/**
 * Apply several changes in one sudo and one round trip (sudo's password check is the slow part): the script,
 * with each content base64-encoded in a here-document, goes to `sh -s` on stdin, never on a command line.
 * Returns one outcome per change, in order.
 */
export async function applyFiles(s: NodeSession, changes: FileChange[]): Promise<WriteOutcome[]> {
  if (changes.length === 0) return [];
  const eof = `KSB_EOF_${randomBytes(8).toString('hex')}`;
  // Few forks: on a busy node every process counts (dirname is ${p%/*}; the list's dir is made once).
  const parts = ['set -e', BACKUP_FN, MKDIRS_FN, WRITE_FN, REMOVE_FN, `t=; trap 'rm -f "$t"' EXIT`, `mkdir -p ${shq(STATE_DIR)}`];
  for (const c of changes) {
    checkPath(s.name, c.path);
    const p = shq(c.path);
    if ('remove' in c) {
      parts.push(`remove ${p}`);
      continue;
    }
    const b64 = Buffer.from(c.content).toString('base64').replace(/.{1,76}/g, '$&\n');
    parts.push(
      `f=${p}; mkdirs "\${f%/*}"; t="$f.ks-bundle.tmp.$$"`,
      `base64 -d > "$t" <<'${eof}'\n${b64}${eof}`,
      `write ${p} ${(c.mode ?? 0o644).toString(8)} "$t"`,
    );
  }
  const r = await s.sudo('/bin/sh -s', { input: parts.join('\n') + '\n' });
  const out = r.stdout.split('\n').filter(Boolean);
  if (out.length !== changes.length) throw new NodeError(s.name, `wiring: expected ${changes.length} results, got: ${r.stdout.trim()}`);
  return out as WriteOutcome[];
}

/** Write `content` to `path` (as root) with a backup of the original; `unchanged` when it already holds it. */
export async function writeFileWithBackup(
  s: NodeSession,
  path: string,
  content: string | Buffer,
  opts: { mode?: number } = {},
): Promise<WriteOutcome> {
  const [o] = await applyFiles(s, [{ path, content, ...(opts.mode === undefined ? {} : { mode: opts.mode }) }]);
  return o!;
}

/** Move a file out of the way (e.g. an apt source that would reach the internet), keeping it for restore. */
export async function removeWithBackup(s: NodeSession, path: string): Promise<'changed' | 'unchanged'> {
  const [o] = await applyFiles(s, [{ path, remove: true }]);
  return o as 'changed' | 'unchanged';
}

/** Put every file changed by the two functions above back as it was; returns what it did, one line per file. */
export async function restoreFiles(s: NodeSession): Promise<string[]> {
  const r = await s.sudo(`/bin/sh -c ${shq(RESTORE_SCRIPT)} sh`);
  return r.stdout.split('\n').filter(Boolean);
}

/** The paths a node has backups for (empty when nothing was changed or everything was restored). */
export async function changedFiles(s: NodeSession): Promise<string[]> {
  const b = await s.readFile(BACKUP_LIST);
  return b ? b.toString('utf8').split('\n').filter(Boolean) : [];
}
