/**
 * What ks-installer's log says about its run (controller/installRunner.py at v3.4.1): "Start installing <task>",
 * "task <task> status is <status>  (<n>/<total>)" as each task finishes, "Task '<task>' failed:" for a failed one,
 * "Failed to ansible-playbook <playbook>" when a final playbook fails, and the welcome banner (roles/check-result's
 * welcome.j2, "Welcome to KubeSphere!") when everything is up. Pure.
 */
export interface InstallerProgress {
  /** Tasks finished so far, and how many there are, when the log has said. */
  finished?: { done: number; total: number; last: string };
  started: string[];
  outcome: 'running' | 'succeeded' | 'failed';
  /** The line that says why, when it failed. */
  reason?: string;
}

export function readInstallerLog(text: string): InstallerProgress {
  const out: InstallerProgress = { started: [], outcome: 'running' };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    let m = /Start installing (\S+)/.exec(line);
    if (m) out.started.push(m[1]!);
    m = /task (\S+) status is (\S+)\s+\((\d+)\/(\d+)\)/.exec(line);
    if (m) {
      out.finished = { done: Number(m[3]), total: Number(m[4]), last: `${m[1]} ${m[2]}` };
      if (m[2] !== 'successful' && out.outcome === 'running') {
        out.outcome = 'failed';
        out.reason = line;
      }
    }
    // A pre-install playbook that fails ends the controller with ansible's recap alone (failed=N on localhost).
    const recap = /^localhost\s+:\s+ok=\d+.*\bfailed=(\d+)/.exec(line);
    if (/^Task '([^']+)' failed:/.test(line) || /Failed to ansible-playbook/.test(line) || (recap && Number(recap[1]) > 0)) {
      out.outcome = 'failed';
      out.reason ??= line;
    }
    if (/Welcome to KubeSphere!/.test(line) && out.outcome === 'running') out.outcome = 'succeeded';
  }
  return out;
}

/** The last lines of a log, for an error. */
export function tail(text: string, lines = 30): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
