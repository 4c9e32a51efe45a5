/**
 * The first word of an inventory host line: `name`, `name:port`, `[v6::addr]:port`, and Ansible's ranges
 * `node[1:3]`, `node[01:10:2]`, `db-[a:c]` (expanded as ansible-core's expand_hostname_range does).
 */
export function expandHostPattern(word: string): { names: string[]; port?: number } {
  if (word.trim().endsWith(':')) throw new Error(`invalid host pattern '${word}': ending in ':' is not allowed`);
  let pattern = word;
  let port: number | undefined;
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(word);
  if (v6) {
    pattern = v6[1]!;
    if (v6[2]) port = Number(v6[2]);
  } else {
    // `host:port` only when the colon is outside any [range] and the host part is not a bare IPv6 address.
    const m = /^(.*):(\d+)$/.exec(word);
    if (m && !m[1]!.replace(/\[[^\]]*\]/g, '').includes(':')) {
      pattern = m[1]!;
      port = Number(m[2]);
    }
  }
  const names = pattern.includes('[') && !/^[0-9a-fA-F:.]+$/.test(pattern) ? expandRange(pattern) : [pattern];
  return port === undefined ? { names } : { names, port };
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

function expandRange(line: string): string[] {
  const open = line.indexOf('[');
  const close = line.indexOf(']', open);
  if (close < 0) throw new Error(`invalid host range in '${line}': missing ]`);
  const head = line.slice(0, open);
  const tail = line.slice(close + 1);
  const bounds = line.slice(open + 1, close).split(':');
  if (bounds.length !== 2 && bounds.length !== 3) throw new Error(`host range must be begin:end or begin:end:step: '${line}'`);
  const beg = bounds[0] || '0';
  const end = bounds[1]!;
  const step = bounds.length === 3 ? Number(bounds[2]) : 1;
  if (!end) throw new Error(`host range must specify end value: '${line}'`);
  if (!Number.isInteger(step) || step <= 0) throw new Error(`host range step must be a positive integer: '${line}'`);
  let fill = (x: string | number): string => String(x);
  if (beg[0] === '0' && beg.length > 1) {
    if (beg.length !== end.length) throw new Error(`host range must specify equal-length begin and end formats: '${line}'`);
    fill = (x) => String(x).padStart(beg.length, '0');
  }
  let seq: (string | number)[] = [];
  const ib = beg.length === 1 ? LETTERS.indexOf(beg) : -1;
  const ie = end.length === 1 ? LETTERS.indexOf(end) : -1;
  if (ib >= 0 && ie >= 0) {
    if (ib > ie) throw new Error(`host range must have begin <= end: '${line}'`);
    for (let i = ib; i <= ie; i += step) seq.push(LETTERS[i]!);
  } else {
    if (!/^\d+$/.test(beg) || !/^\d+$/.test(end)) throw new Error(`invalid host range: '${line}'`);
    seq = [];
    for (let i = Number(beg); i <= Number(end); i += step) seq.push(i);
  }
  const out: string[] = [];
  for (const s of seq) {
    const name = head + fill(s) + tail;
    if (name.includes('[')) out.push(...expandRange(name));
    else out.push(name);
  }
  return out;
}
