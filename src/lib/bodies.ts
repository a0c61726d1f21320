import http, { type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import getRawBody from 'raw-body';
import { type AppError, unsupportedMediaType } from './errors.js';

/*
 * Request bodies as the connection sees them, for every reader of a body (JSON and form
 * routes, HTML forms, multipart uploads). A client that asks first (`Expect:
 * 100-continue`) is told to send only by the reader that will read the body, once the
 * route, the token and the declared size have passed; a body refused part-way is
 * answered, then read and dropped for a bounded while before the connection closes.
 */

/** What any route open to anyone reads at most: a subscription, a sign-in or a confirmation is under 1 KB. */
export const PUBLIC_BODY_LIMIT = 16 * 1024;

/**
 * After a refused body is answered, at most this much more of it is read and dropped,
 * for at most LINGER_MS, before the connection is closed: long enough for a client on a
 * slow link to read the answer, short enough that refusals cost little.
 */
export const LINGER_BYTES = 64 * 1024 * 1024;
export const LINGER_MS = 10_000;

/** Requests whose client waits for `100 Continue` before it sends the body. */
const waitingToSend = new WeakSet<IncomingMessage>();

/**
 * The HTTP server of `handler`. Node answers `Expect: 100-continue` with `100 Continue`
 * by itself, before any route has looked at the request; here the request goes to the
 * app as it is, and acceptBody sends `100 Continue` when a reader is about to read.
 */
export function createWebServer(handler: RequestListener): Server {
  const server = http.createServer(handler);
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    waitingToSend.add(req);
    handler(req, res);
  });
  return server;
}

/**
 * Called by a reader before it reads a body of at most `limit` bytes: a body whose
 * Content-Length is over the limit is refused before any of it is read (the error of
 * `tooLarge`); a client waiting for `100 Continue` is told to send.
 */
export function acceptBody(req: IncomingMessage, limit: number, tooLarge: () => AppError): void {
  if (Number(req.headers['content-length'] ?? 0) > limit) {
    refuseBody(req);
    throw tooLarge();
  }
  if (waitingToSend.delete(req)) responseOf(req).writeContinue();
}

/**
 * The whole body, at most `limit` bytes, for a reader that takes it in one piece (JSON,
 * forms): over the limit, the error of `tooLarge` (see acceptBody and refuseBody).
 * Compressed bodies are refused (415): a few KB of gzip may inflate to megabytes of
 * work. (body-parser is not used: it reads a refused body to its end, however long,
 * before it lets the refusal be sent.)
 */
export async function readBody(req: IncomingMessage, limit: number, tooLarge: () => AppError): Promise<Buffer> {
  const encoding = req.headers['content-encoding']?.trim().toLowerCase();
  if (encoding && encoding !== 'identity') {
    throw unsupportedMediaType('Compressed request bodies are not accepted: send it without Content-Encoding.');
  }
  acceptBody(req, limit, tooLarge);
  try {
    return await getRawBody(req, { limit, length: req.headers['content-length'] });
  } catch (error) {
    refuseBody(req);
    throw (error as { type?: string }).type === 'entity.too.large' ? tooLarge() : error;
  }
}

const lingering = new WeakSet<IncomingMessage>();

/**
 * Called by a reader that stops reading a body it refuses (before or part-way through
 * it). The answer goes out with `Connection: close`; the rest of the body is read and
 * dropped meanwhile, and after the answer the connection stays open until the client
 * stops sending, LINGER_BYTES more have come or LINGER_MS have passed (a lingering
 * close, as in Apache and nginx). Node would close it as soon as the answer is written:
 * a socket closed with bytes unread is reset, and a client still sending then sees
 * ECONNRESET or EPIPE, its kernel dropping the answer unread.
 */
export function refuseBody(req: IncomingMessage): void {
  if (req.complete || lingering.has(req)) return;
  lingering.add(req);
  const res = responseOf(req);
  const { socket } = req;
  if (!res.headersSent) res.setHeader('Connection', 'close');
  let left = LINGER_BYTES;
  req.on('data', (chunk: Buffer) => {
    left -= chunk.length;
    if (left < 0) socket.destroy();
  });
  req.resume();
  // Node's server calls destroySoon() when an answer with `Connection: close` is
  // written: it would end the socket and destroy it at once. Here it ends (the client
  // sees the end of the answer) and is destroyed when the client is done.
  socket.destroySoon = () => {
    socket.end();
    if (socket.readableEnded) return void socket.destroy();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS).unref();
    socket.once('end', () => socket.destroy());
    socket.once('close', () => clearTimeout(timer));
    socket.resume();
  };
}

/** Express gives the request its response; a plain Node request has none. */
function responseOf(req: IncomingMessage): ServerResponse {
  const res = (req as IncomingMessage & { res?: ServerResponse }).res;
  if (!res) throw new Error('refuseBody and acceptBody need the request of an Express app');
  return res;
}
