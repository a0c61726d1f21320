import type { Request, Response } from 'express';
import fresh from 'fresh';

/**
 * Whether the request's validators match the answer's (the ETag and Last-Modified already
 * set on `res`). Express's req.fresh answers no whenever the request says `Cache-Control:
 * no-cache`, as Node's fetch and some feed readers do on every conditional request: that
 * directive is for caches on the way, and the origin is where validation happens.
 */
export function matchesValidators(req: Request, res: Response): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  return fresh(
    { 'if-none-match': req.headers['if-none-match'], 'if-modified-since': req.headers['if-modified-since'] },
    { etag: res.get('ETag'), 'last-modified': res.get('Last-Modified') },
  );
}
