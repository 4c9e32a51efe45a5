/**
 * Python's `shlex.split(s, comments=True, posix=True)`, which Ansible's INI plugin uses for host lines: quotes are
 * removed and adjacent pieces join (`'it''s'` → `its`), a backslash escapes outside single quotes, and an unquoted
 * `#` starts a comment even inside a word (`a=b#c` → `a=b`).
 */
export function shlexSplit(line: string): string[] {
  const out: string[] = [];
  let token = '';
  let inToken = false; // a token has started (an empty quoted '' is still a token)
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n') {
      if (inToken) out.push(token);
      token = '';
      inToken = false;
      i++;
    } else if (c === '#') {
      break;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new SyntaxError('No closing quotation');
      token += line.slice(i + 1, end);
      inToken = true;
      i = end + 1;
    } else if (c === '"') {
      i++;
      for (;;) {
        if (i >= line.length) throw new SyntaxError('No closing quotation');
        const d = line[i]!;
        if (d === '"') break;
        // Inside double quotes a backslash escapes only `"` and `\` (POSIX shell rules, as shlex has them).
        if (d === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) {
          token += line[i + 1];
          i += 2;
        } else {
          token += d;
          i++;
        }
      }
      inToken = true;
      i++;
    } else if (c === '\\') {
      if (i + 1 >= line.length) throw new SyntaxError('No escaped character');
      token += line[i + 1];
      inToken = true;
      i += 2;
    } else {
      token += c;
      inToken = true;
      i++;
    }
  }
  if (inToken) out.push(token);
  return out;
}
