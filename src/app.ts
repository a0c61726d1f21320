import { randomUUID } from 'node:crypto';
import express, { type Express } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import { adminRoutes } from './admin/routes.js';
import { advancePages } from './advance/pages.js';
import { advanceRoutes } from './advance/routes.js';
import { attachmentRoutes, fileRoutes } from './attachments/routes.js';
import { bearerAuthenticator } from './auth/authenticate.js';
import { tokenRoutes } from './auth/routes.js';
import { contactRoutes } from './contacts/routes.js';
import { calendarRoutes } from './calendar/routes.js';
import { feedRoutes } from './feeds/routes.js';
import type { AppContext } from './context.js';
import { healthRoutes } from './health/routes.js';
import { notFoundHandler, problemHandler } from './lib/errors.js';
import { buildOpenApiDocument } from './lib/openapi.js';
import { defineRoute, type RouteDefinition, routesHandler } from './lib/routes.js';
import { journalistPages } from './journalists/pages.js';
import { journalistRoutes } from './journalists/routes.js';
import { newsroomRoutes } from './newsrooms/routes.js';
import { ninjsRoutes } from './ninjs/routes.js';
import { queueDashboard } from './delivery/dashboard.js';
import { deliveryRoutes } from './delivery/routes.js';
import { bounceRoutes } from './bounces/routes.js';
import { noticeRoutes } from './notices/routes.js';
import { releaseRoutes } from './releases/routes.js';
import { sitePageNotFound, sitePreviewRoutes, siteRoutes } from './site/routes.js';
import { subscriptionPages } from './subscriptions/pages.js';
import { subscriptionRoutes } from './subscriptions/routes.js';
import { indexNowRoutes } from './indexnow/routes.js';
import { websubRoutes } from './websub/routes.js';

/** Links that are their own credential (confirmation, preferences, unsubscribe, advance access) never reach the log. */
const SECRET_PATH = /^(\/subscriptions\/(?:confirm|preferences)\/|\/unsubscribe\/(?:journalist\/)?|\/advance\/)[^/?#]+/;
export const withoutSecrets = (url: string) => url.replace(SECRET_PATH, '$1[redacted]');

/** Request ids from a proxy are kept when they look like ids, so logs can be joined. */
const REQUEST_ID = /^[A-Za-z0-9._-]{1,100}$/;

export function apiRoutes(ctx: AppContext): RouteDefinition[] {
  return [
    ...healthRoutes(ctx),
    ...newsroomRoutes(ctx),
    ...tokenRoutes(ctx),
    ...contactRoutes(ctx),
    ...journalistRoutes(ctx),
    ...releaseRoutes(ctx),
    ...deliveryRoutes(ctx),
    ...advanceRoutes(ctx),
    ...bounceRoutes(ctx),
    ...noticeRoutes(ctx),
    ...attachmentRoutes(ctx),
    ...fileRoutes(ctx),
    ...sitePreviewRoutes(ctx),
    ...subscriptionRoutes(ctx),
    ...websubRoutes(ctx),
  ];
}

export function buildApp(ctx: AppContext): Express {
  const app = express();
  app.disable('x-powered-by');
  // req.ip, which every per-client limit and the consent record read, is the socket's
  // address unless the request came through a proxy named in TRUST_PROXY.
  app.set('trust proxy', ctx.config.trustProxy);
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
        req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: withoutSecrets(req.url) }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    }),
  );
  // No body parser here: bodies are read per route, after authentication (lib/routes.ts).

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
  app.use(subscriptionPages(ctx)); // HTML pages, and the subscribe form's post, before the JSON routes
  app.use(journalistPages(ctx));
  app.use(routesHandler(routes, bearerAuthenticator(ctx)));
  app.use(queueDashboard(ctx));
  app.use('/admin', adminRoutes(ctx));
  // Feeds, ninjs and calendars first: their paths are more specific than the site's release pages.
  app.use(indexNowRoutes(ctx));
  app.use(feedRoutes(ctx));
  app.use(ninjsRoutes(ctx));
  app.use(calendarRoutes(ctx));
  app.use(advancePages(ctx));
  app.use(siteRoutes(ctx));

  app.use(sitePageNotFound(ctx));
  app.use(notFoundHandler);
  app.use(problemHandler(ctx.logger));
  return app;
}
