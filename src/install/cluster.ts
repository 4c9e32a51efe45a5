import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { KsBundleError } from '../errors.js';
import type { OnProgress } from '../progress/events.js';
import { table } from '../progress/format.js';
import { classifyLine, type RecapRow } from './ansible-output.js';

export interface PlaybookRun {
  recap: RecapRow[];
  failures: Array<{ host: string; task: string; message: string }>;
  tasks: number;
}

/**
 * Run the bundle's playbook with the taskbox venv's ansible-playbook: one progress bar over the play's tasks, the
 * PLAY RECAP as a table, each failed task with its host and message. Ansible's full output goes to a log file;
 * the inventory (with its passwords) is passed as a file, never on a command line.
 */
export async function runPlaybook(opts: {
  ansiblePlaybook: string;
  playbook: string;
  inventory: string;
  extraVarFiles: string[];
  knownHostsFile: string;
  logFile: string;
  cwd: string;
  onProgress: OnProgress;
}): Promise<PlaybookRun> {
  const args = ['-i', opts.inventory, ...opts.extraVarFiles.flatMap((f) => ['-e', `@${f}`]), opts.playbook];
  const env = {
    ...process.env,
    // Ansible refuses to start without a UTF-8 locale, and a taskbox shell (sudo, a minimal image, cron) often has
    // none; C.UTF-8 is built into glibc, so it exists on every target without locales installed.
    LC_ALL: 'C.UTF-8',
    LANG: 'C.UTF-8',
    ANSIBLE_FORCE_COLOR: '0',
    ANSIBLE_NOCOLOR: '1',
    ANSIBLE_RETRY_FILES_ENABLED: '0',
    ANSIBLE_LOG_PATH: opts.logFile,
    ANSIBLE_HOST_KEY_CHECKING: 'True',
    // The keys preflight checked (and, with --accept-new-host-keys, recorded) are the ones ssh must see.
    ANSIBLE_SSH_ARGS: `-o UserKnownHostsFile=${opts.knownHostsFile} -o StrictHostKeyChecking=yes -o ControlMaster=auto -o ControlPersist=60s`,
    ANSIBLE_PYTHON_INTERPRETER: 'auto_silent',
  };
  const child = spawn(opts.ansiblePlaybook, args, { cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const run: PlaybookRun = { recap: [], failures: [], tasks: 0 };
  let task = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  opts.onProgress({ type: 'start', id: 'playbook', label: 'ansible-playbook', unit: 'tasks' });
  for await (const line of createInterface({ input: child.stdout })) {
    const c = classifyLine(line);
    if (c.kind === 'task') {
      task = c.name;
      run.tasks++;
      opts.onProgress({ type: 'advance', id: 'playbook', bytes: run.tasks });
      opts.onProgress({ type: 'log', level: 'info', message: `task ${run.tasks}: ${c.name}` });
    } else if (c.kind === 'failed' || c.kind === 'unreachable') {
      run.failures.push({ host: c.host, task, message: c.message });
      opts.onProgress({ type: 'log', level: 'warn', message: `${c.host}: ${task}: ${c.message}` });
    } else if (c.kind === 'recap-row') run.recap.push(c.row);
  }
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  opts.onProgress({ type: 'done', id: 'playbook', bytes: run.tasks, cached: false });
  if (code !== 0) {
    const failed = run.failures.map((f) => `  ${f.host}: ${f.task}: ${f.message}`).join('\n');
    throw new KsBundleError('FAILED', `ansible-playbook failed (exit ${code})${failed ? ':\n' + failed : ''}${run.recap.length ? '\n' + recapTable(run.recap) : ''}`, {
      hint: `The full log is ${opts.logFile}${stderr.trim() ? `; ansible said: ${stderr.trim().split('\n').slice(-3).join(' ')}` : ''}. Fix the cause and run the same command again: finished steps are skipped.`,
    });
  }
  return run;
}

export function recapTable(rows: RecapRow[]): string {
  return table([
    ['HOST', 'OK', 'CHANGED', 'UNREACHABLE', 'FAILED', 'SKIPPED'],
    ...rows.map((r) => [r.host, String(r.ok), String(r.changed), String(r.unreachable), String(r.failed), String(r.skipped)]),
  ]);
}
