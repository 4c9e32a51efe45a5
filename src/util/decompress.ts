/** Streams that undo a compression: xz (wasm, no native code), gzip (zlib) or none. Used for apt indexes and runtime tarballs. */
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import xzPkg from 'xz-decompress';

export type Codec = 'xz' | 'gz' | 'none';

export function decompressStream(source: Readable, codec: Codec): Readable {
  if (codec === 'none') return source;
  if (codec === 'gz') return source.pipe(createGunzip());
  const web = Readable.toWeb(source) as unknown as ReadableStream<Uint8Array>;
  return Readable.fromWeb(new xzPkg.XzReadableStream(web) as any);
}
