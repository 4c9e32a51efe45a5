/** Pure readers of ansible-playbook's default console output: task progress, failures, and the PLAY RECAP. */

export interface RecapRow {
  host: string;
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
  rescued: number;
  ignored: number;
}

export type AnsibleLine =
  | { kind: 'play'; name: string }
  | { kind: 'task'; name: string }
  | { kind: 'failed'; host: string; message: string }
  | { kind: 'unreachable'; host: string; message: string }
  | { kind: 'recap' }
  | { kind: 'recap-row'; row: RecapRow }
  | { kind: 'other' };

const NUMBERS = ['ok', 'changed', 'unreachable', 'failed', 'skipped', 'rescued', 'ignored'] as const;

export function classifyLine(line: string): AnsibleLine {
  let m = /^PLAY \[(.*)\] \**$/.exec(line);
  if (m) return { kind: 'play', name: m[1]! };
  m = /^TASK \[(.*)\] \**$/.exec(line);
  if (m) return { kind: 'task', name: m[1]! };
  if (/^PLAY RECAP \**$/.test(line)) return { kind: 'recap' };
  m = /^(fatal|failed): \[([^\]]+)\]: (FAILED|UNREACHABLE)! => (.*)$/.exec(line);
  if (m) return { kind: m[3] === 'UNREACHABLE' ? 'unreachable' : 'failed', host: m[2]!, message: failureMessage(m[4]!) };
  m = /^(\S+)\s+:\s+(ok=\d+.*)$/.exec(line);
  if (m) {
    const row: RecapRow = { host: m[1]!, ok: 0, changed: 0, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 };
    for (const part of m[2]!.trim().split(/\s+/)) {
      const [k, v] = part.split('=');
      if ((NUMBERS as readonly string[]).includes(k!)) row[k as (typeof NUMBERS)[number]] = Number(v);
    }
    return { kind: 'recap-row', row };
  }
  return { kind: 'other' };
}

/** Ansible prints a failure as JSON (`{"msg": …}`) or plain text; take the message a person needs. */
function failureMessage(rest: string): string {
  try {
    const doc = JSON.parse(rest) as Record<string, unknown>;
    const parts = [doc.msg, doc.stderr, doc.module_stderr].filter((x) => typeof x === 'string' && x.trim()) as string[];
    return parts.join(' | ') || rest;
  } catch {
    return rest;
  }
}
