import { BLOCK, TarFormatError, allZeros, decodeHeader, isZeroBlock, paddingFor, parsePaxRecords, utf8, type RawHeader } from './tar-header.js';

export { TarFormatError } from './tar-header.js';

export type EntryKind = 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';

/**
 * One archive member with the name, link and size GNU tar would extract it under: a PAX record over a GNU long
 * name over the header's own field.
 */
export interface TarEntryInfo {
  path: string;
  kind: EntryKind;
  /** The header's type letter, for messages about `other` entries. */
  typeflag: string;
  size: number;
  mode: number;
  linkpath?: string;
}

/** Receives an entry's body. Returning a promise from `write` applies backpressure to the reader. */
export interface EntrySink {
  write(chunk: Buffer): void | Promise<void>;
  end(): void | Promise<void>;
  /**
   * Take the body as its byte range in the archive instead (`offset` counts from the archive's first byte), when the
   * read can jump over it: `write` is then never called for this entry.
   */
  range?(offset: number, length: number): void;
}

export interface ReadTarOptions {
  /**
   * Jump over the next `n` bytes after the chunk last given (a seekable input). Without it, every body is read
   * and given to `write`.
   */
  skip?: (n: number) => void;
}

/**
 * PAX keywords that make GNU tar write another file, or other bytes, than the member's name and body say: sparse
 * files are rebuilt from a map, and a header charset changes how the names are read. Refused, never half-applied.
 */
const REFUSED_PAX = (key: string) => key.startsWith('GNU.sparse.') || key === 'hdrcharset';

interface Pending {
  pax?: Map<string, string>;
  longName?: string;
  longLink?: string;
}

/**
 * A streaming tar reader: bodies are handed on as slices of the chunks read, never copied or buffered (node-tar's
 * Parser runs a stream machine per entry, which cost several times the hashing itself on multi-gigabyte bundles).
 * Names, links and sizes are resolved as GNU tar resolves them, and whatever GNU tar would read another way than
 * this reader can (a global PAX header, a sparse member, two long names for one entry, a non-empty body on a
 * folder or link, a zero block followed by more entries) is a TarFormatError, not a guess.
 *
 * Reading stops after the end-of-archive marker without consuming the rest of `chunks`, so the caller can drain
 * it (a gzip stream checks its trailer only at its end).
 */
export async function readTar(chunks: AsyncIterable<Buffer>, onEntry: (e: TarEntryInfo) => EntrySink | undefined, opts: ReadTarOptions = {}): Promise<void> {
  const it = chunks[Symbol.asyncIterator]();
  let pending: Buffer | undefined;
  let sink: EntrySink | undefined;
  let meta: { typeflag: string; parts: Buffer[] } | undefined; // the body of a PAX or GNU long-name header
  let next: Pending = {};
  let bodyLeft = 0;
  /** The body in hand was taken by its range: its bytes are passed over, not written. */
  let byRange = false;
  let padLeft = 0;
  let zeroBlocks = 0;
  let offset = 0;

  const startEntry = async (block: Buffer) => {
    let raw: RawHeader;
    try {
      raw = decodeHeader(block);
    } catch (err) {
      throw new TarFormatError(`corrupt header at byte ${offset} (${(err as Error).message})`);
    }
    const t = raw.typeflag;
    if (t === 'x' || t === 'L' || t === 'K') {
      const already = t === 'x' ? next.pax : t === 'L' ? next.longName : next.longLink;
      if (already !== undefined) throw new TarFormatError(`two ${describe(t)} headers for one entry at byte ${offset}`);
      meta = { typeflag: t, parts: [] };
      bodyLeft = raw.size;
      padLeft = paddingFor(raw.size);
      if (bodyLeft === 0) await finishBody();
      return;
    }
    if (t === 'g') throw new TarFormatError(`a global PAX header at byte ${offset}: GNU tar would apply it to every later entry`);
    const path = next.pax?.get('path') ?? next.longName ?? raw.name;
    const linkpath = next.pax?.get('linkpath') ?? next.longLink ?? raw.linkname;
    const paxSize = next.pax?.get('size');
    if (paxSize !== undefined && !/^[0-9]{1,16}$/.test(paxSize)) throw new TarFormatError(`a PAX size "${paxSize}" at byte ${offset}`);
    const size = paxSize !== undefined ? Number(paxSize) : raw.size;
    next = {};
    if (path === undefined || linkpath === undefined) throw new TarFormatError(`a name that is not UTF-8 at byte ${offset}`);
    const kind = kindOf(t, path);
    if (kind !== 'file' && kind !== 'other' && size !== 0) throw new TarFormatError(`a ${kind} with a ${size}-byte body at byte ${offset}`);
    bodyLeft = size;
    padLeft = paddingFor(size);
    sink = onEntry({ path, kind, typeflag: t, size, mode: raw.mode, linkpath: linkpath || undefined });
    byRange = size > 0 && opts.skip !== undefined && sink?.range !== undefined;
    if (byRange) sink!.range!(offset + BLOCK, size);
    if (bodyLeft === 0) await finishBody();
  };

  const finishBody = async () => {
    if (meta) {
      const body = Buffer.concat(meta.parts);
      if (meta.typeflag === 'x') {
        const pax = parsePaxRecords(body);
        for (const key of pax.keys()) if (REFUSED_PAX(key)) throw new TarFormatError(`a PAX "${key}" record: GNU tar would not extract the member's body as it stands`);
        for (const key of ['path', 'linkpath', 'size']) if (pax.get(key) === '') throw new TarFormatError(`an empty PAX "${key}" record`);
        next.pax = pax;
      } else {
        // GNU tar reads a long name as a C string: up to the first NUL.
        const end = body.indexOf(0);
        const name = utf8(end < 0 ? body : body.subarray(0, end));
        if (name === undefined) throw new TarFormatError('a GNU long name that is not UTF-8');
        if (meta.typeflag === 'L') next.longName = name;
        else next.longLink = name;
      }
      meta = undefined;
    } else if (sink) {
      await sink.end();
    }
    sink = undefined;
    byRange = false;
  };

  const pendingMeta = () => next.pax !== undefined || next.longName !== undefined || next.longLink !== undefined;
  let ended = false;
  try {
    for (let r = await it.next(); !r.done; r = ended ? { done: true, value: undefined } : await it.next()) {
      const chunk: Buffer = pending ? Buffer.concat([pending, r.value]) : r.value;
      pending = undefined;
      let pos = 0;
      while (pos < chunk.length && !ended) {
        if (bodyLeft > 0) {
          const n = Math.min(bodyLeft, chunk.length - pos);
          const slice = chunk.subarray(pos, pos + n);
          if (byRange) {
            // What is left of the body past this chunk is not read at all.
            if (n < bodyLeft) {
              opts.skip!(bodyLeft - n);
              offset += bodyLeft - n;
              bodyLeft = n;
            }
          } else if (meta) {
            meta.parts.push(Buffer.from(slice));
            if (meta.parts.reduce((a, b) => a + b.length, 0) > 1 << 20) throw new TarFormatError(`a ${describe(meta.typeflag)} header over 1 MiB`);
          } else if (sink) {
            const w = sink.write(slice);
            if (w) await w;
          }
          bodyLeft -= n;
          pos += n;
          offset += n;
          if (bodyLeft === 0) await finishBody();
          continue;
        }
        if (padLeft > 0) {
          const n = Math.min(padLeft, chunk.length - pos);
          // A writer pads with zeros; other bytes here are damage that no member's hash would see.
          if (!allZeros(chunk.subarray(pos, pos + n))) throw new TarFormatError(`bytes other than zeros in the padding at byte ${offset}`);
          padLeft -= n;
          pos += n;
          offset += n;
          continue;
        }
        if (chunk.length - pos < BLOCK) {
          pending = Buffer.from(chunk.subarray(pos));
          break;
        }
        const header = chunk.subarray(pos, pos + BLOCK);
        pos += BLOCK;
        if (isZeroBlock(header)) {
          if (pendingMeta() || meta) throw new TarFormatError(`an extended header with no entry after it, before byte ${offset}`);
          zeroBlocks++;
          offset += BLOCK;
          if (zeroBlocks === 2) {
            ended = true;
            // tar pads the archive with zeros to a whole record; the rest of this chunk is part of that.
            if (!allZeros(chunk.subarray(pos))) throw new TarFormatError(`bytes other than zeros after the end-of-archive marker at byte ${offset}`);
          }
          continue;
        }
        // GNU tar stops at a lone zero block ("A lone zero block"): nothing after it would be extracted.
        if (zeroBlocks) throw new TarFormatError(`corrupt archive: data after an end-of-archive block at byte ${offset}`);
        await startEntry(Buffer.from(header));
        offset += BLOCK;
      }
    }
  } catch (err) {
    await it.return?.();
    throw err;
  }
  if (bodyLeft > 0 || padLeft > 0 || pending || meta) throw new TarFormatError(`truncated: the archive ends inside an entry (byte ${offset})`);
  if (!ended) throw new TarFormatError(`truncated: no end-of-archive marker after byte ${offset}`);
}

/**
 * What GNU tar makes of a type letter: regular files ('0', NUL, contiguous '7') unless the name ends in '/', which
 * GNU tar extracts as a folder (a BSD convention); every letter it does not know, it extracts as a regular file,
 * so those are `other` here and refused by the caller.
 */
function kindOf(typeflag: string, path: string): EntryKind {
  switch (typeflag) {
    case '0':
    case '\0':
    case '7':
      return path.endsWith('/') ? 'other' : 'file';
    case '5':
      return 'directory';
    case '1':
      return 'hardlink';
    case '2':
      return 'symlink';
    default:
      return 'other';
  }
}

function describe(typeflag: string): string {
  return typeflag === 'x' ? 'PAX' : typeflag === 'L' ? 'GNU long-name' : 'GNU long-link';
}
