import net from 'node:net';

/*
 * An HTTP/1.1 client on a plain socket, for what fetch and supertest hide: when the
 * client sends its body, when it reads, and what exactly came back.
 */

export interface RawAnswer {
  /** The final status, or 0 when no answer could be read. */
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Interim statuses received before it (100 Continue). */
  interim: number[];
  /** Bytes of the body the server took before it closed (all of them unless cut off). */
  sent: number;
  /** What went wrong on the socket, if anything (ECONNRESET, EPIPE). */
  error?: string;
}

export interface RawRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  /** The body: `head`, then `filler` bytes, then `tail`. */
  head?: string | Buffer;
  filler?: number;
  tail?: string | Buffer;
  /** Sent with Transfer-Encoding: chunked instead of a Content-Length. */
  chunked?: boolean;
  /** Sends `Expect: 100-continue` and waits for the answer before sending the body. */
  expectContinue?: boolean;
}

const CHUNK = Buffer.alloc(256 * 1024, 0x61);

function* bodyParts(request: RawRequest): Generator<Buffer> {
  if (request.head) yield Buffer.from(request.head);
  for (let left = request.filler ?? 0; left > 0; left -= CHUNK.length) yield left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
  if (request.tail) yield Buffer.from(request.tail);
}

const bodyLength = (r: RawRequest) => Buffer.byteLength(r.head ?? '') + (r.filler ?? 0) + Buffer.byteLength(r.tail ?? '');

/** Parses what came back: interim answers, then the final one (its body by Content-Length). */
function parseAnswer(bytes: Buffer): Omit<RawAnswer, 'sent' | 'error'> & { complete: boolean } {
  const interim: number[] = [];
  let at = 0;
  for (;;) {
    const end = bytes.indexOf('\r\n\r\n', at);
    if (end === -1) return { status: 0, headers: {}, body: '', interim, complete: false };
    const [statusLine, ...lines] = bytes.toString('latin1', at, end).split('\r\n');
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine ?? '')?.[1] ?? 0);
    at = end + 4;
    if (status >= 100 && status < 200) {
      interim.push(status);
      continue;
    }
    const headers = Object.fromEntries(
      lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
    );
    const length = Number(headers['content-length'] ?? 0);
    const body = bytes.subarray(at, at + length).toString('utf8');
    return { status, headers, body, interim, complete: bytes.length - at >= length };
  }
}

/**
 * Sends a request as many simple clients do: the head, then the whole body, and only
 * then reads the answer (unless `expectContinue`, when it reads the interim answer
 * first). A server that closes a connection with bytes of it unread resets it, and the
 * client's kernel then drops an answer it had not read: such a client sees no answer.
 */
export function sendRaw(port: number, request: RawRequest): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    let sent = 0;
    let error: string | undefined;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      socket.destroy();
      const answer = parseAnswer(Buffer.concat(received));
      resolve({ status: answer.status, headers: answer.headers, body: answer.body, interim: answer.interim, sent, error });
    };
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      const answer = parseAnswer(Buffer.concat(received));
      if (request.expectContinue && !sending && answer.interim.includes(100)) void sendBody();
      else if (answer.complete && answer.status) finish();
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      error ??= e.code ?? e.message;
      finish();
    });
    socket.on('end', finish);

    const headers: Record<string, string> = {
      Host: `127.0.0.1:${port}`,
      ...(request.chunked ? { 'Transfer-Encoding': 'chunked' } : { 'Content-Length': String(bodyLength(request)) }),
      ...(request.expectContinue ? { Expect: '100-continue' } : {}),
      ...request.headers,
    };
    const head = `${request.method ?? 'POST'} ${request.path} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;

    let sending = false;
    const write = (bytes: Buffer | string) =>
      new Promise<void>((done, fail) => {
        if (socket.destroyed) return fail(new Error('closed'));
        socket.write(bytes, (e) => (e ? fail(e) : done()));
      });
    async function sendBody() {
      sending = true;
      socket.pause(); // read only once everything is sent
      try {
        for (const part of bodyParts(request)) {
          await write(request.chunked ? Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')]) : part);
          sent += part.length;
        }
        if (request.chunked) await write('0\r\n\r\n');
      } catch (e) {
        error ??= (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      }
      socket.resume();
    }
    socket.once('connect', () => {
      socket.write(head);
      if (!request.expectContinue) void sendBody();
    });
  });
}
