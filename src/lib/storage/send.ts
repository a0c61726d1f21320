import { pipeline } from 'node:stream/promises';
import type { Request, Response } from 'express';
import { matchesValidators } from '../conditional.js';
import { AppError } from '../errors.js';
import type { ByteRange, ObjectStore } from './store.js';

/**
 * The one range the answer may give, undefined for the whole object: `Range` unless
 * `If-Range` names another version (then the whole object is what the client needs).
 * Several ranges, or a malformed header, get the whole object too, as with express's
 * own sendFile. No satisfiable range at all is a 416.
 */
function rangeToSend(req: Request, res: Response, size: number): ByteRange | undefined {
  const ifRange = req.get('If-Range');
  if (ifRange) {
    const etag = String(res.getHeader('ETag'));
    const modified = res.getHeader('Last-Modified');
    const matches = ifRange.startsWith('"') || ifRange.startsWith('W/')
      ? ifRange === etag && !ifRange.startsWith('W/')
      : modified !== undefined && Date.parse(ifRange) >= Date.parse(String(modified));
    if (!matches) return undefined;
  }
  const ranges = req.range(size, { combine: true });
  if (ranges === -1) throw new AppError(416, 'client-error', `The range asked for is outside the file (${size} bytes).`);
  if (ranges === -2 || ranges === undefined || ranges.type !== 'bytes' || ranges.length !== 1) return undefined;
  return ranges[0];
}

/**
 * Answers `res` with the object `key` of the store: 200 with the whole of it, 206 with
 * one byte range (416 when none can be given), 304 when the client's `If-None-Match` or
 * `If-Modified-Since` matches the validators among `headers`; HEAD gets the same
 * headers without the bytes. The bytes are streamed from the store, never held whole.
 * False when the store has no such object: the answer's headers are then as they were
 * (a 404 must not carry a file's cache lifetime).
 */
export async function sendObject(res: Response, store: ObjectStore, key: string, headers: Record<string, string>): Promise<boolean> {
  const req = res.req;
  const all = { ...headers, 'Accept-Ranges': 'bytes' };
  const before = Object.keys(all).map((name) => [name, res.getHeader(name)] as const);
  const unset = () => {
    for (const [name, value] of before) {
      if (value === undefined) res.removeHeader(name);
      else res.setHeader(name, value);
    }
  };
  res.set(all);
  // Validators come from the database: a 304 needs nothing from the store.
  if (matchesValidators(req, res)) {
    res.status(304).end();
    return true;
  }
  let range: ByteRange | undefined;
  if (req.headers.range !== undefined || req.method === 'HEAD') {
    const info = await store.head(key);
    if (!info) {
      unset();
      return false;
    }
    if (req.headers.range !== undefined) {
      try {
        range = rangeToSend(req, res, info.size);
      } catch (error) {
        unset();
        res.set('Content-Range', `bytes */${info.size}`);
        throw error;
      }
    }
    if (req.method === 'HEAD') {
      sendHead(res, info.size, range);
      res.end();
      return true;
    }
  }
  const object = await store.get(key, range);
  if (!object) {
    unset();
    return false;
  }
  sendHead(res, object.size, range);
  try {
    await pipeline(object.body, res);
  } catch (error) {
    // The client left before the end: nothing to answer, nothing wrong here.
    if ((error as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') throw error;
  }
  return true;
}

function sendHead(res: Response, size: number, range: ByteRange | undefined): void {
  if (range) {
    res.status(206).set({ 'Content-Range': `bytes ${range.start}-${range.end}/${size}`, 'Content-Length': String(range.end - range.start + 1) });
  } else {
    res.status(200).set('Content-Length', String(size));
  }
}
