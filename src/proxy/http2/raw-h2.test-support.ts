import { connect, type TLSSocket } from 'node:tls';

/**
 * A bare HTTP/2 client writing frames by hand, for what well-behaved clients never send: floods of
 * HEADERS + RST_STREAM, forbidden fields. HPACK is written without the dynamic table or Huffman coding.
 */
export interface RawH2 {
  socket: TLSSocket;
  /** Frames received so far, in order. */
  frames: { type: number; flags: number; stream: number; payload: Buffer }[];
  /** The error code of the GOAWAY received, once one is. */
  goaway(): number | undefined;
  closed(): boolean;
  send(...frames: Buffer[]): void;
}

export const FRAME = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, GOAWAY: 7 } as const;
export const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4 } as const;

export function frame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

function hpackString(text: string): Buffer {
  const bytes = Buffer.from(text, 'latin1');
  if (bytes.length > 126) throw new Error('test strings stay short');
  return Buffer.concat([Buffer.from([bytes.length]), bytes]);
}

/** A GET for `authority` (path /), plus any literal fields, as one HEADERS frame. */
export function getHeaders(stream: number, authority: string, fields: [string, string][] = [], endStream = true): Buffer {
  const parts = [Buffer.from([0x82, 0x87, 0x84]), Buffer.from([0x01]), hpackString(authority)]; // GET https / :authority
  for (const [name, value] of fields) parts.push(Buffer.from([0x00]), hpackString(name), hpackString(value));
  return frame(FRAME.HEADERS, FLAG.END_HEADERS | (endStream ? FLAG.END_STREAM : 0), stream, Buffer.concat(parts));
}

export function rstStream(stream: number, code: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(code);
  return frame(FRAME.RST_STREAM, 0, stream, payload);
}

/** `preface: false` connects without sending the client preface (to send something else instead). */
export async function rawH2(port: number, ca: string, options: { preface?: boolean } = {}): Promise<RawH2> {
  const socket = connect({ host: '127.0.0.1', port, ca, servername: 'localhost', ALPNProtocols: ['h2'] });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
  if (socket.alpnProtocol !== 'h2') throw new Error(`ALPN gave ${socket.alpnProtocol}`);
  const frames: RawH2['frames'] = [];
  let buf = Buffer.alloc(0);
  let goaway: number | undefined;
  let closed = false;
  socket.on('error', () => {});
  socket.on('close', () => (closed = true));
  socket.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 9) {
      const length = buf.readUIntBE(0, 3);
      if (buf.length < 9 + length) break;
      const f = { type: buf[3], flags: buf[4], stream: buf.readUInt32BE(5) & 0x7fffffff, payload: buf.subarray(9, 9 + length) };
      buf = buf.subarray(9 + length);
      frames.push(f);
      if (f.type === FRAME.GOAWAY) goaway = f.payload.readUInt32BE(4);
      if (f.type === FRAME.SETTINGS && (f.flags & FLAG.ACK) === 0 && !socket.destroyed) socket.write(frame(FRAME.SETTINGS, FLAG.ACK, 0));
    }
  });
  if (options.preface ?? true) socket.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'), frame(FRAME.SETTINGS, 0, 0)]));
  return {
    socket,
    frames,
    goaway: () => goaway,
    closed: () => closed,
    send: (...out) => {
      if (!socket.destroyed) socket.write(Buffer.concat(out));
    },
  };
}
