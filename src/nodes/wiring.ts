import { NodeError, shq } from './node-error.js';
import type { NodeSession } from './session.js';

/**
 * Files the installer changes on a node, each with a way back:
 * - before the first change, `<file>.ks-bundle.bak` keeps the original (cp -p: bytes, mode, owner, times); when
 *   the file did not exist, `<file>.ks-bundle.absent` says so. A rerun never touches an existing backup, so the
 *   pristine original survives any number of runs.
 * - every path changed is listed once in BACKUP_LIST, which `restoreFiles` walks.
 * - the same content again changes nothing and reports `unchanged`.
 * Each operation is one shell script run as root in one round trip.
 */
export const BACKUP_LIST = '/var/lib/ks-bundle/wiring/changed-files';
export const BAK = '.ks-bundle.bak';
export const ABSENT = '.ks-bundle.absent';

export type WriteOutcome = 'created' | 'changed' | 'unchanged';

// $1 path, $2 octal mode for a new file. stdin: the content.
const BACKUP_FN = `backup() {
  if [ ! -e "$1${BAK}" ] && [ ! -e "$1${ABSENT}" ]; then
    if [ -e "$1" ] || [ -L "$1" ]; then cp -a -- "$1" "$1${BAK}"; else : > "$1${ABSENT}"; fi
  fi
  mkdir -p "$(dirname "${BACKUP_LIST}")"
  grep -qxF -- "$1" "${BACKUP_LIST}" 2>/dev/null || printf '%s\\n' "$1" >> "${BACKUP_LIST}"
}`;

const WRITE_SCRIPT = `set -e
${BACKUP_FN}
f=$1; t="$f.ks-bundle.tmp.$$"
mkdir -p "$(dirname "$f")"
trap 'rm -f "$t"' EXIT
cat > "$t"
if [ -f "$f" ] && cmp -s "$t" "$f"; then echo unchanged; exit 0; fi
if [ -e "$f" ]; then out=changed; chmod --reference="$f" "$t"; chown --reference="$f" "$t"; else out=created; chmod "$2" "$t"; fi
backup "$f"
mv -f "$t" "$f"
trap - EXIT
echo $out`;

const REMOVE_SCRIPT = `set -e
${BACKUP_FN}
if [ ! -e "$1" ] && [ ! -L "$1" ]; then echo unchanged; exit 0; fi
backup "$1"
rm -f -- "$1"
echo changed`;

const RESTORE_SCRIPT = `set -e
[ -f "${BACKUP_LIST}" ] || exit 0
while IFS= read -r f; do
  if [ -e "$f${BAK}" ] || [ -L "$f${BAK}" ]; then rm -f -- "$f"; mv -f -- "$f${BAK}" "$f"; echo "restored $f"
  elif [ -e "$f${ABSENT}" ]; then rm -f -- "$f" "$f${ABSENT}"; echo "removed $f"
  fi
done < "${BACKUP_LIST}"
rm -f "${BACKUP_LIST}"`;

function checkPath(node: string, path: string): void {
  if (!path.startsWith('/') || /[\n\r]/.test(path) || path.split('/').includes('..')) {
    throw new NodeError(node, `refusing to wire an unsafe path: ${JSON.stringify(path)}`);
  }
}

/** Write `content` to `path` (as root) with a backup of the original; `unchanged` when it already holds it. */
export async function writeFileWithBackup(
  s: NodeSession,
  path: string,
  content: string | Buffer,
  opts: { mode?: number } = {},
): Promise<WriteOutcome> {
  checkPath(s.name, path);
  const mode = (opts.mode ?? 0o644).toString(8);
  const r = await s.sudo(`/bin/sh -c ${shq(WRITE_SCRIPT)} sh ${shq(path)} ${mode}`, { input: content });
  return r.stdout.trim() as WriteOutcome;
}

/** Move a file out of the way (e.g. an apt source that would reach the internet), keeping it for restore. */
export async function removeWithBackup(s: NodeSession, path: string): Promise<'changed' | 'unchanged'> {
  checkPath(s.name, path);
  const r = await s.sudo(`/bin/sh -c ${shq(REMOVE_SCRIPT)} sh ${shq(path)}`);
  return r.stdout.trim() as 'changed' | 'unchanged';
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
