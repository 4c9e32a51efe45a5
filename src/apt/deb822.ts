/**
 * deb822 control data (Packages, Release, dpkg status): stanzas separated by blank lines, `Field: value` lines,
 * continuation lines starting with a space or tab. Pure and allocation-light: the full bookworm Packages
 * (~60k stanzas) goes through here, so it scans bytes with indexOf instead of splitting into a line array.
 */
export type Stanza = Record<string, string>;

export interface RawStanza {
  fields: Stanza;
  /** Offsets of the stanza's text in the input (end excludes the separating blank line). */
  start: number;
  end: number;
}

/** Every stanza of a text (a Release file, a dpkg status), values decoded as UTF-8. */
export function parseDeb822(text: string, keep?: ReadonlySet<string>): Stanza[] {
  const out: Stanza[] = [];
  for (const s of iterateStanzas(Buffer.from(text, 'utf8'), keep, 'utf8')) out.push(s.fields);
  return out;
}

export class Deb822Error extends Error {}

/**
 * Iterate the stanzas of `buf` (a Packages file as read from disk). With `keep`, only those fields are stored (the
 * resolver needs a dozen of the ~25 fields; skipping Description saves most of the memory). Field names are kept as
 * written. Each kept value becomes its own small string (latin1 by default, so bytes round-trip; field and line
 * boundaries are ASCII, so UTF-8 works too): no string of the whole file exists and nothing keeps one alive, which is
 * what holds a 50 MB index to a few dozen MB of records.
 */
export function* iterateStanzas(buf: Buffer, keep?: ReadonlySet<string>, encoding: 'latin1' | 'utf8' = 'latin1'): Generator<RawStanza> {
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
      // Continuation of the previous field (multi-line value). A lone " ." stands for an empty line.
      if (lastKey !== undefined) fields[lastKey] += '\n' + buf.toString(encoding, pos + 1, lineEnd);
      end = lineEnd;
    } else if (c !== 35 /* # comment, allowed in deb822 sources */) {
      if (start < 0) start = pos;
      end = lineEnd;
      const colon = buf.indexOf(58, pos);
      if (colon < 0 || colon > lineEnd) throw new Deb822Error(`line without a colon at offset ${pos}: ${buf.toString('latin1', pos, Math.min(lineEnd, pos + 60))}`);
      const key = buf.toString('latin1', pos, colon);
      if (keep && !keep.has(key)) {
        lastKey = undefined;
      } else {
        let vs = colon + 1;
        let ve = lineEnd;
        while (vs < ve && (buf[vs] === 32 || buf[vs] === 9)) vs++;
        while (ve > vs && (buf[ve - 1] === 32 || buf[ve - 1] === 9)) ve--;
        fields[key] = buf.toString(encoding, vs, ve);
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
