import { Router } from 'express';
import type { AppContext } from '../context.js';

/** The IndexNow key file: the key as plain text at /<key>.txt, only when INDEXNOW_KEY is set. */
export function indexNowRoutes(ctx: AppContext): Router {
  const router = Router();
  const key = ctx.config.indexNow?.key;
  if (key) {
    router.get(`/${key}.txt`, (_req, res) => {
      res.type('text/plain; charset=utf-8').send(key);
    });
  }
  return router;
}
