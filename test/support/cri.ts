import { connect as http2Connect } from 'node:http2';
import { connect as netConnect } from 'node:net';

/**
 * The one CRI call a kubelet makes to get an image, `runtime.v1.ImageService/PullImage`, sent to containerd's CRI
 * plugin over its gRPC socket (HTTP/2, protobuf written by hand: PullImageRequest{image: ImageSpec{image}}).
 * Resolves to the image_ref containerd answers; rejects with the grpc-status and grpc-message it answers.
 */
export async function criPullImage(socket: string, image: string): Promise<string> {
  const client = http2Connect('http://localhost', { createConnection: () => netConnect(socket) });
  client.on('error', () => {});
  try {
    const request = bytesField(1, bytesField(1, Buffer.from(image)));
    const frame = Buffer.alloc(5 + request.length);
    frame.writeUInt32BE(request.length, 1);
    request.copy(frame, 5);
    const stream = client.request({ ':method': 'POST', ':path': '/runtime.v1.ImageService/PullImage', 'content-type': 'application/grpc', te: 'trailers' });
    const chunks: Buffer[] = [];
    let status: string | undefined;
    let message = '';
    const take = (h: Record<string, unknown>) => {
      if (h['grpc-status'] !== undefined) status = String(h['grpc-status']);
      if (h['grpc-message'] !== undefined) message = decodeURIComponent(String(h['grpc-message']));
    };
    stream.on('response', take);
    stream.on('trailers', take);
    stream.on('data', (c: Buffer) => chunks.push(c));
    await new Promise<void>((resolve, reject) => {
      stream.on('end', resolve);
      stream.on('error', reject);
      stream.end(frame);
    });
    if (status !== '0') throw new Error(`CRI PullImage ${image}: grpc-status ${status}: ${message}`);
    const body = Buffer.concat(chunks).subarray(5);
    // PullImageResponse{image_ref = 1}: one length-delimited field.
    if (body[0] !== 0x0a) throw new Error(`CRI PullImage ${image}: unexpected answer ${body.toString('hex')}`);
    const [len, at] = readVarint(body, 1);
    return body.subarray(at, at + len).toString();
  } finally {
    client.close();
  }
}

function bytesField(field: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([(field << 3) | 2]), varint(value.length), value]);
}

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}

function readVarint(b: Buffer, at: number): [number, number] {
  let n = 0;
  for (let shift = 0; ; shift += 7) {
    const byte = b[at++]!;
    n |= (byte & 0x7f) << shift;
    if (!(byte & 0x80)) return [n, at];
  }
}
