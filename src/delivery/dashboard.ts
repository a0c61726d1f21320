import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { type RequestHandler, Router } from 'express';
import { bearerAuthenticator } from '../auth/authenticate.js';
import type { AppContext } from '../context.js';
import { forbidden, unauthorized } from '../lib/errors.js';

export const DASHBOARD_PATH = '/admin/queues';

/** The queue dashboard (Bull Board) under /admin/queues, for the admin token only. */
export function queueDashboard(ctx: AppContext): Router {
  const authenticate = bearerAuthenticator(ctx);
  const adminOnly: RequestHandler = async (req, _res, next) => {
    try {
      const principal = await authenticate(req);
      if (!principal) throw unauthorized();
      if (principal.kind !== 'admin') throw forbidden('Only the admin token may see the queues.');
      next();
    } catch (error) {
      next(error);
    }
  };
  const board = new ExpressAdapter();
  board.setBasePath(DASHBOARD_PATH);
  createBullBoard({
    queues: [new BullMQAdapter(ctx.deliveries.queue), new BullMQAdapter(ctx.publication.queue)],
    // @bull-board/express brings its own copy of @bull-board/api: the same shape, another declaration.
    serverAdapter: board as never,
  });
  const router = Router();
  router.use(DASHBOARD_PATH, adminOnly, board.getRouter());
  return router;
}
