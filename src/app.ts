import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import express, { type Express, Router } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import { adminRoutes } from './admin/routes.js';
import { attachmentRoutes, fileRoutes } from './attachments/routes.js';
import { bearerAuthenticator } from './auth/authenticate.js';
import { tokenRoutes } from './auth/routes.js';
import { contactRoutes } from './contacts/routes.js';
import type { AppContext } from './context.js';
import { healthRoutes } from './health/routes.js';
import { notFoundHandler, problemHandler } from './lib/errors.js';
import { buildOpenApiDocument } from './lib/openapi.js';
import { defineRoute, mountRoutes, type RouteDefinition } from './lib/routes.js';
import { newsroomRoutes } from './newsrooms/routes.js';
import { releaseRoutes } from './releases/routes.js';

/** Request ids from a proxy are kept when they look like ids, so logs can be joined. */
const REQUEST_ID = /^[A-Za-z0-9._-]{1,100}$/;

export function apiRoutes(ctx: AppContext): RouteDefinition[] {
  return [
    ...healthRoutes(ctx),
    ...newsroomRoutes(ctx),
    ...tokenRoutes(ctx),
    ...contactRoutes(ctx),
    ...releaseRoutes(ctx),
    ...attachmentRoutes(ctx),
    ...fileRoutes(ctx),
  ];
}

export function buildApp(ctx: AppContext): Express {
  const app = express();
  app.disable('x-powered-by');
  // Feeds, files and the API are read from other origins (aggregators, media sites).
  app.use(helmet({ crossOriginResourcePolicy: { policy: 'cross-origin' } }));
  app.use(
    pinoHttp({
      logger: ctx.logger,
      genReqId: (req, res) => {
        const given = req.headers['x-request-id'];
        const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : 'info'),
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    }),
  );
  app.use(
    express.json({
      limit: '5mb',
      type: ['application/json', 'application/*+json'],
      verify: (req, _res, bytes) => {
        // The parser also decodes UTF-16 and UTF-32; the contract is UTF-8 only.
        const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(req.headers['content-type'] ?? '')?.[1];
        if (charset !== undefined && charset.toLowerCase() !== 'utf-8') {
          throw Object.assign(new Error(`charset ${charset}`), { type: 'charset.unsupported' });
        }
        // The decoder would quietly turn bytes that are not UTF-8 into U+FFFD: refuse them instead.
        if (!isUtf8(bytes)) throw Object.assign(new Error('not UTF-8'), { type: 'encoding.invalid' });
      },
    }),
  );

  const routes: RouteDefinition[] = [
    ...apiRoutes(ctx),
    defineRoute({
      method: 'get',
      path: '/api/openapi.json',
      tag: 'Meta',
      summary: 'This document: OpenAPI 3.1, generated from the schemas the routes validate with',
      access: 'public',
      responses: { 200: { description: 'The API document' } },
      handle: () => ({ status: 200, body: document }),
    }),
  ];
  const document = buildOpenApiDocument(routes, ctx.config.publicUrl);
  const router = Router();
  mountRoutes(router, routes, bearerAuthenticator(ctx));
  app.use(router);
  app.use('/admin', adminRoutes(ctx));

  app.use(notFoundHandler);
  app.use(problemHandler(ctx.logger));
  return app;
}
