/**
 * deb822 control data (Packages, Release, dpkg status): stanzas separated by blank lines, `Field: value` lines,
 * continuation lines starting with a space or tab. Pure and allocation-light: the full bookworm Packages
 * (~60k stanzas) goes through here, so it scans with indexOf instead of splitting into a line array.
 */
export type Stanza = Record<string, string>;

export interface RawStanza {
  fields: Stanza;
  /** Offsets of the stanza's text in the input (end excludes the separating blank line). */
  start: number;
  end: number;
}

/**
 * Iterate the stanzas of `text`. With `keep`, only those fields are stored (the resolver needs a dozen of the
 * ~25 fields; skipping Description saves most of the memory). Field names are kept as written.
 */
export function* iterateStanzas(text: string, keep?: ReadonlySet<string>): Generator<RawStanza> {
  const n = text.length;
  let pos = 0;
  let fields: Stanza = {};
  let count = 0;
  let start = -1;
  let end = 0;
  let lastKey: string | undefined;
  while (pos < n) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = n;
    let lineEnd = nl;
    if (lineEnd > pos && text.charCodeAt(lineEnd - 1) === 13) lineEnd--; // CRLF
    const c = text.charCodeAt(pos);
    if (lineEnd === pos || isBlank(text, pos, lineEnd)) {
      if (start >= 0) {
        yield { fields, start, end };
        fields = {};
        count = 0;
        start = -1;
        lastKey = undefined;
      }
    } else if (c === 32 || c === 9) {
      // Continuation of the previous field (multi-line value). A lone " ." stands for an empty line.
      if (lastKey !== undefined) fields[lastKey] += '\n' + text.slice(pos + 1, lineEnd);
      end = lineEnd;
    } else if (c === 35 /* # comment, allowed in deb822 sources */) {
      // skip
    } else {
      if (start < 0) start = pos;
      end = lineEnd;
      const colon = text.indexOf(':', pos);
      if (colon < 0 || colon > lineEnd) throw new Deb822Error(`line without a colon at offset ${pos}: ${text.slice(pos, Math.min(lineEnd, pos + 60))}`);
      const key = text.slice(pos, colon);
      if (keep && !keep.has(key)) {
        lastKey = undefined;
      } else {
        fields[key] = text.slice(colon + 1, lineEnd).trim();
        lastKey = key;
        count++;
      }
    }
    pos = nl + 1;
  }
  if (start >= 0) yield { fields, start, end };
  void count;
}

export function parseDeb822(text: string, keep?: ReadonlySet<string>): Stanza[] {
  const out: Stanza[] = [];
  for (const s of iterateStanzas(text, keep)) out.push(s.fields);
  return out;
}

function isBlank(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9) return false;
  }
  return true;
}

/** Render one stanza (values with embedded newlines become continuation lines). */
export function formatStanza(fields: Array<[string, string]>): string {
  let out = '';
  for (const [k, v] of fields) {
    const lines = v.split('\n');
    out += `${k}:${lines[0] ? ' ' + lines[0] : ''}\n`;
    for (const l of lines.slice(1)) out += ` ${l}\n`;
  }
  return out;
}

export class Deb822Error extends Error {}

/**
 * The same scan over bytes (a Packages file as read from disk). Each kept value becomes its own small string
 * (decoded as latin1, so offsets stay byte offsets and bytes round-trip): no string of the whole file exists and
 * nothing keeps one alive, which is what holds a 50 MB index to a few dozen MB of records.
 */
export function* iterateStanzasBytes(buf: Buffer, keep?: ReadonlySet<string>): Generator<RawStanza> {
  const n = buf.length;
  let pos = 0;
  let fields: Stanza = {};
  let start = -1;
  let end = 0;
  let lastKey: string | undefined;
  while (pos < n) {
    let nl = buf.indexOf(10, pos);
    if (nl < 0) nl = n;
    let lineEnd = nl;
    if (lineEnd > pos && buf[lineEnd - 1] === 13) lineEnd--;
    const c = buf[pos]!;
    if (lineEnd === pos || isBlankBytes(buf, pos, lineEnd)) {
      if (start >= 0) {
        yield { fields, start, end };
        fields = {};
        start = -1;
        lastKey = undefined;
      }
    } else if (c === 32 || c === 9) {
      if (lastKey !== undefined) fields[lastKey] += '\n' + buf.toString("latin1", pos + 1, lineEnd);
      end = lineEnd;
    } else if (c !== 35) {
      if (start < 0) start = pos;
      end = lineEnd;
      const colon = buf.indexOf(58, pos);
      if (colon < 0 || colon > lineEnd) throw new Deb822Error(`line without a colon at offset ${pos}: ${buf.toString("latin1", pos, Math.min(lineEnd, pos + 60))}`);
      const key = buf.toString("latin1", pos, colon);
      if (keep && !keep.has(key)) {
        lastKey = undefined;
      } else {
        let vs = colon + 1;
        let ve = lineEnd;
        while (vs < ve && (buf[vs] === 32 || buf[vs] === 9)) vs++;
        while (ve > vs && (buf[ve - 1] === 32 || buf[ve - 1] === 9)) ve--;
        fields[key] = buf.toString("latin1", vs, ve);
        lastKey = key;
      }
    }
    pos = nl + 1;
  }
  if (start >= 0) yield { fields, start, end };
}

function isBlankBytes(buf: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (buf[i] !== 32 && buf[i] !== 9) return false;
  return true;
}
