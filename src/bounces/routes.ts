import { createHmac, createPublicKey, type KeyObject, timingSafeEqual, verify } from 'node:crypto';
import type { Request } from 'express';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { readBody } from '../lib/bodies.js';
import { AppError, forbidden, notFound, payloadTooLarge, tooManyRequests, unauthorized } from '../lib/errors.js';
import { defineRoute, parseJsonBody } from '../lib/routes.js';
import { parseBounce } from './parse.js';
import { WEBHOOK_BODY_LIMITS, WEBHOOK_MAX_AGE_S, WEBHOOK_REQUESTS_PER_MINUTE } from './policy.js';
import { applyBounce, type Handled } from './process.js';
import { fromMailgun, fromPostmark, fromSendgrid, fromSes, mailgunEvent, postmarkEvent, sendgridEvents, snsMessage } from './providers.js';
import { isSnsUrl, SnsCertificateError, SnsVerifier } from './sns.js';

/*
 * Provider webhooks: a provider that relays the email reports bounces and complaints as
 * events. No session: the provider's signature (or, for Postmark, the credentials it
 * sends) is the authentication, checked before the body is parsed; a call without it is
 * 401 (403: signed by SNS, but for a topic not ours), is logged and changes nothing.
 * Rate-limited per client address. Events land where returned messages do (process.ts);
 * each delivery takes each outcome once, so a replayed event changes nothing.
 */

const handled = z.enum(['recorded', 'repeated', 'ignored', 'forged', 'unmatched', 'unclassified']);
const accepted = z.object({ result: handled });

const sameText = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

const header = (req: Request, name: string) => {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

export function bounceRoutes(ctx: AppContext) {
  const limiter = new RateLimiterMemory({ points: WEBHOOK_REQUESTS_PER_MINUTE, duration: 60 });
  const limit = async (req: Request) => {
    try {
      await limiter.consume(req.ip ?? 'unknown');
    } catch {
      throw tooManyRequests('Too many webhook calls from this address; try again in a minute.');
    }
  };
  const refuse = (provider: string, req: Request, error: AppError) => {
    ctx.logger.warn({ provider, ip: req.ip, status: error.status }, `${provider} webhook refused: ${error.message}`);
    return error;
  };
  const raw = (req: Request, provider: keyof typeof WEBHOOK_BODY_LIMITS) => {
    const limit = WEBHOOK_BODY_LIMITS[provider];
    return readBody(req, limit, () => payloadTooLarge(`A ${provider} webhook call is read up to ${limit} bytes.`));
  };
  /** Whether SendGrid signed the timestamp and the body, as its Event Webhook does (ECDSA P-256, SHA-256, DER in base64). */
  const signedBySendgrid = (key: KeyObject, signature: string | undefined, timestamp: string | undefined, bytes: Buffer) => {
    if (!signature || !timestamp || !/^\d{1,12}$/.test(timestamp)) return false;
    try {
      return verify('sha256', Buffer.concat([Buffer.from(timestamp), bytes]), key, Buffer.from(signature, 'base64'));
    } catch {
      return false;
    }
  };
  const sns = new SnsVerifier(() => ctx.snsFetch);
  const sendgridKey = ctx.config.bounceWebhooks.sendgridPublicKey
    ? createPublicKey({ key: Buffer.from(ctx.config.bounceWebhooks.sendgridPublicKey, 'base64'), format: 'der', type: 'spki' })
    : undefined;

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
        const key = ctx.config.mailgunSigningKey;
        if (!key) throw notFound('Webhook');
        await limit(req);
        const { timestamp, token, signature } = body.signature;
        const expected = createHmac('sha256', key).update(`${timestamp}${token}`).digest('hex');
        const age = Math.abs(ctx.clock.now().getTime() / 1000 - Number(timestamp));
        if (!sameText(signature, expected) || age > WEBHOOK_MAX_AGE_S) {
          throw refuse('mailgun', req, unauthorized('The event is not signed with this installation\'s Mailgun webhook signing key, or is too old.'));
        }
        const event = fromMailgun(body['event-data']);
        return { status: 200, body: { result: event ? await applyBounce(ctx, event) : 'ignored' } };
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
      responses: { 200: { description: 'The message was read (result says what it did; `subscribed` for a subscription confirmed)', schema: z.object({ result: z.union([handled, z.literal('subscribed')]) }) } },
      async handle({ req }) {
        const topics = ctx.config.bounceWebhooks.sesTopicArns;
        if (!topics.length) throw notFound('Webhook');
        await limit(req);
        // SNS posts JSON as text/plain.
        const message = parseJsonBody(snsMessage, await raw(req, 'ses'));
        if (!message.Signature || !message.SigningCertURL) throw refuse('ses', req, unauthorized('The message is not signed by SNS.'));
        // Checked first: anyone can have SNS sign messages of a topic of their own.
        if (!topics.includes(message.TopicArn)) throw refuse('ses', req, forbidden('The message is of an SNS topic not in SES_SNS_TOPIC_ARNS.'));
        let valid: boolean;
        try {
          valid = await sns.verify(message, ctx.clock.now());
        } catch (error) {
          if (!(error instanceof SnsCertificateError)) throw error;
          ctx.logger.warn({ url: message.SigningCertURL, error: error.message }, 'ses webhook: no SNS certificate');
          // SNS tries again on a 5xx.
          throw new AppError(503, 'busy', 'The SNS signing certificate could not be read; try again later.');
        }
        if (!valid) throw refuse('ses', req, unauthorized('The message\'s SNS signature does not verify.'));
        if (message.Type === 'SubscriptionConfirmation') {
          if (!isSnsUrl(message.SubscribeURL)) throw refuse('ses', req, unauthorized('The SubscribeURL is not of SNS.'));
          await ctx.snsFetch(message.SubscribeURL!);
          ctx.logger.info({ topic: message.TopicArn }, 'ses webhook: SNS subscription confirmed');
          return { status: 200, body: { result: 'subscribed' } };
        }
        const event = message.Type === 'Notification' ? fromSes(message.Message) : undefined;
        return { status: 200, body: { result: event ? await applyBounce(ctx, event) : 'ignored' } };
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
        const credentials = ctx.config.bounceWebhooks.postmark;
        if (!credentials) throw notFound('Webhook');
        await limit(req);
        const given = /^Basic ([A-Za-z0-9+/=]{1,1000})$/.exec(header(req, 'authorization') ?? '')?.[1];
        const expected = Buffer.from(`${credentials.user}:${credentials.password}`).toString('base64');
        if (!given || !sameText(given, expected)) throw refuse('postmark', req, unauthorized('The call does not carry this installation\'s Postmark webhook credentials.'));
        const body = parseJsonBody(postmarkEvent, await raw(req, 'postmark'));
        const event = fromPostmark(body);
        if (!event) return { status: 200, body: { result: 'ignored' as Handled } };
        // Postmark's MessageID is its own: the original's is in the returned message, when included.
        const content = body.Content ? await parseBounce(Buffer.from(body.Content)).catch(() => undefined) : undefined;
        return { status: 200, body: { result: await applyBounce(ctx, { ...event, messageIds: content?.messageIds ?? [] }) } };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/bounces/sendgrid',
      tag: 'Bounces',
      summary:
        'SendGrid Event Webhook (bounce, spamreport), signed (ECDSA) with the key of SENDGRID_WEBHOOK_PUBLIC_KEY; 404 when that is not set',
      access: 'public',
      errors: [401, 404, 413, 422, 429],
      responses: { 200: { description: 'The events were read (results says what each did)', schema: z.object({ results: z.array(handled) }) } },
      async handle({ req }) {
        if (!sendgridKey) throw notFound('Webhook');
        await limit(req);
        const bytes = await raw(req, 'sendgrid');
        const signature = header(req, 'x-twilio-email-event-webhook-signature');
        const timestamp = header(req, 'x-twilio-email-event-webhook-timestamp');
        if (!signedBySendgrid(sendgridKey, signature, timestamp, bytes)) throw refuse('sendgrid', req, unauthorized('The events are not signed with the key of SENDGRID_WEBHOOK_PUBLIC_KEY.'));
        const results: Handled[] = [];
        for (const item of parseJsonBody(sendgridEvents, bytes)) {
          const event = fromSendgrid(item);
          results.push(event ? await applyBounce(ctx, event) : 'ignored');
        }
        return { status: 200, body: { results } };
      },
    }),
  ];
}
