import type { Request } from 'express';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { readBody } from '../lib/bodies.js';
import { notFound, payloadTooLarge, tooManyRequests } from '../lib/errors.js';
import { defineRoute } from '../lib/routes.js';
import { WEBHOOK_BODY_LIMITS, WEBHOOK_REQUESTS_PER_MINUTE } from './policy.js';
import { mailgunEvent } from './providers.js';
import { bounceWebhooks } from './webhooks.js';

/*
 * Provider webhooks: a provider that relays the email reports bounces and complaints as
 * events (webhooks.ts checks and reads them). No session; 404 while the provider's
 * setting is not given; rate-limited per client address, the four together. All but
 * Mailgun's read their body here as bytes: the signature covers the exact bytes.
 */

const handled = z.enum(['recorded', 'repeated', 'ignored', 'forged', 'unmatched', 'unclassified']);
const accepted = z.object({ result: handled });

const header = (req: Request, name: string) => {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

export function bounceRoutes(ctx: AppContext) {
  const webhooks = bounceWebhooks(ctx);
  const limiter = new RateLimiterMemory({ points: WEBHOOK_REQUESTS_PER_MINUTE, duration: 60 });
  /** The webhook when its setting is given (else 404), once the client is within its rate. */
  const open = async <W>(webhook: W | undefined, req: Request): Promise<W> => {
    if (!webhook) throw notFound('Webhook');
    try {
      await limiter.consume(req.ip ?? 'unknown');
    } catch {
      throw tooManyRequests('Too many webhook calls from this address; try again in a minute.');
    }
    return webhook;
  };
  const bytesOf = (req: Request, provider: keyof typeof WEBHOOK_BODY_LIMITS) => {
    const limit = WEBHOOK_BODY_LIMITS[provider];
    return readBody(req, limit, () => payloadTooLarge(`A ${provider} webhook call is read up to ${limit} bytes.`));
  };

  return [
    defineRoute({
      method: 'post',
      path: '/api/bounces/mailgun',
      tag: 'Bounces',
      summary: 'Mailgun webhook (failed and complained events), signed with MAILGUN_WEBHOOK_SIGNING_KEY; 404 when that is not set',
      access: 'public',
      body: mailgunEvent,
      errors: [401, 404, 429],
      responses: { 200: { description: 'The event was read (result says what it did)', schema: accepted } },
      async handle({ body, req }) {
        const receive = await open(webhooks.mailgun, req);
        return { status: 200, body: { result: await receive(body, req.ip) } };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/bounces/ses',
      tag: 'Bounces',
      summary:
        'Amazon SES notifications through an SNS HTTPS subscription (Bounce and Complaint), signed by SNS, for the topics of SES_SNS_TOPIC_ARNS; 404 when that is not set',
      access: 'public',
      errors: [401, 403, 404, 413, 422, 429, 503],
      responses: {
        200: {
          description: 'The message was read (result says what it did; `subscribed` for a subscription confirmed)',
          schema: z.object({ result: z.union([handled, z.literal('subscribed')]) }),
        },
      },
      async handle({ req }) {
        const receive = await open(webhooks.ses, req);
        return { status: 200, body: { result: await receive(await bytesOf(req, 'ses'), req.ip) } };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/bounces/postmark',
      tag: 'Bounces',
      summary:
        'Postmark bounce and spam complaint webhooks, with the basic auth credentials POSTMARK_WEBHOOK_USER and POSTMARK_WEBHOOK_PASSWORD in the webhook URL; 404 when they are not set',
      access: 'public',
      ownAuthorization: true,
      errors: [401, 404, 413, 422, 429],
      responses: { 200: { description: 'The event was read (result says what it did)', schema: accepted } },
      async handle({ req }) {
        const postmark = await open(webhooks.postmark, req);
        postmark.checkAuthorization(header(req, 'authorization'), req.ip);
        return { status: 200, body: { result: await postmark.receive(await bytesOf(req, 'postmark')) } };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/bounces/sendgrid',
      tag: 'Bounces',
      summary: 'SendGrid Event Webhook (bounce, spamreport), signed (ECDSA) with the key of SENDGRID_WEBHOOK_PUBLIC_KEY; 404 when that is not set',
      access: 'public',
      errors: [401, 404, 413, 422, 429],
      responses: { 200: { description: 'The events were read (results says what each did)', schema: z.object({ results: z.array(handled) }) } },
      async handle({ req }) {
        const receive = await open(webhooks.sendgrid, req);
        const bytes = await bytesOf(req, 'sendgrid');
        const results = await receive(bytes, header(req, 'x-twilio-email-event-webhook-signature'), header(req, 'x-twilio-email-event-webhook-timestamp'), req.ip);
        return { status: 200, body: { results } };
      },
    }),
  ];
}
