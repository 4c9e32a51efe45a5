import { Header, Pax } from 'tar';

/** One archive member as the reader sees it; long names from PAX and GNU headers already applied. */
export interface TarEntryInfo {
  path: string;
  type: string;
  size: number;
  mode: number;
  linkpath?: string;
}

/** Receives an entry's body. Returning a promise from `write` applies backpressure to the reader. */
export interface EntrySink {
  write(chunk: Buffer): void | Promise<void>;
  end(): void | Promise<void>;
}

export class TarFormatError extends Error {}

const BLOCK = 512;

/**
 * A streaming tar reader: headers are decoded by node-tar's Header and Pax, bodies are handed on as slices of the
 * chunks read, never copied or buffered. node-tar's own Parser runs a full stream machine per entry, which costs
 * several times the hashing itself on multi-gigabyte bundles; this loop keeps verify at disk speed.
 */
export async function readTar(chunks: AsyncIterable<Buffer>, onEntry: (e: TarEntryInfo) => EntrySink | undefined): Promise<void> {
  let pending: Buffer | undefined;
  let header: Buffer | undefined;
  let sink: EntrySink | undefined;
  let bodyLeft = 0;
  let padLeft = 0;
  let meta: Buffer[] | undefined; // body of a PAX or GNU long-name header
  let metaKind: string | undefined;
  let next: { path?: string; linkpath?: string; size?: number } = {};
  let zeroBlocks = 0;
  let offset = 0;

  const startEntry = async (block: Buffer) => {
    const h = new Header(block);
    if (!h.cksumValid) throw new TarFormatError(`corrupt header at byte ${offset} (checksum mismatch)`);
    const type = h.type ?? 'File';
    const size = next.size ?? h.size ?? 0;
    bodyLeft = size;
    padLeft = (BLOCK - (size % BLOCK)) % BLOCK;
    if (type === 'ExtendedHeader' || type === 'GlobalExtendedHeader' || type === 'NextFileHasLongPath' || type === 'NextFileHasLongLinkpath') {
      meta = [];
      metaKind = type;
      return;
    }
    const info: TarEntryInfo = { path: next.path ?? h.path ?? '', type, size, mode: h.mode ?? 0o644, linkpath: next.linkpath ?? h.linkpath };
    next = {};
    sink = onEntry(info);
    if (bodyLeft === 0) await finishBody();
  };

  const finishBody = async () => {
    if (meta) {
      const text = Buffer.concat(meta).toString('utf8');
      if (metaKind === 'ExtendedHeader') {
        const pax = Pax.parse(text, undefined, false);
        next = { ...next, path: pax.path ?? next.path, linkpath: pax.linkpath ?? next.linkpath, size: pax.size ?? next.size };
      } else if (metaKind === 'NextFileHasLongPath') next.path = text.replace(/\0.*$/s, '');
      else if (metaKind === 'NextFileHasLongLinkpath') next.linkpath = text.replace(/\0.*$/s, '');
      meta = undefined;
      metaKind = undefined;
    } else if (sink) {
      await sink.end();
    }
    sink = undefined;
  };

  let ended = false;
  for await (const raw of chunks) {
    let chunk: Buffer = pending ? Buffer.concat([pending, raw]) : raw;
    pending = undefined;
    let pos = 0;
    while (pos < chunk.length && !ended) {
      if (bodyLeft > 0) {
        const n = Math.min(bodyLeft, chunk.length - pos);
        const slice = chunk.subarray(pos, pos + n);
        if (meta) meta.push(Buffer.from(slice));
        else if (sink) {
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
        padLeft -= n;
        pos += n;
        offset += n;
        continue;
      }
      if (chunk.length - pos < BLOCK) {
        pending = Buffer.from(chunk.subarray(pos));
        break;
      }
      header = chunk.subarray(pos, pos + BLOCK);
      pos += BLOCK;
      if (header.every((b) => b === 0)) {
        zeroBlocks++;
        offset += BLOCK;
        if (zeroBlocks === 2) ended = true;
        continue;
      }
      if (zeroBlocks) throw new TarFormatError(`corrupt archive: data after an end-of-archive block at byte ${offset}`);
      await startEntry(Buffer.from(header));
      offset += BLOCK;
    }
    if (ended) break;
  }
  if (bodyLeft > 0 || padLeft > 0 || pending) throw new TarFormatError(`truncated: the archive ends inside an entry (byte ${offset})`);
  if (!ended) throw new TarFormatError(`truncated: no end-of-archive marker after byte ${offset}`);
}
