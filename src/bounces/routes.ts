import { createHmac, timingSafeEqual } from 'node:crypto';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { z } from 'zod';
import type { AppContext } from '../context.js';
import { notFound, tooManyRequests, unauthorized } from '../lib/errors.js';
import { defineRoute } from '../lib/routes.js';
import { WEBHOOK_MAX_AGE_S, WEBHOOK_REQUESTS_PER_MINUTE } from './policy.js';
import { applyBounce, type BounceEvent } from './process.js';

/*
 * Provider webhooks: a provider that relays the email reports bounces and complaints as
 * events. No session: the provider's signature is the authentication (an unsigned or
 * stale event is 401 and changes nothing). Rate-limited per client address. The event
 * lands in the same place as a returned message (process.ts).
 */

/** Mailgun's event (the parts read), https://documentation.mailgun.com/docs/mailgun/user-manual/tracking-messages/ */
const mailgunEvent = z.object({
  signature: z.object({ timestamp: z.string().regex(/^\d{1,12}$/), token: z.string().min(1).max(200), signature: z.string().regex(/^[0-9a-f]{64}$/) }),
  'event-data': z
    .object({
      event: z.string().max(40),
      severity: z.string().max(40).optional(),
      recipient: z.string().max(320).optional(),
      reason: z.string().max(200).optional(),
      'delivery-status': z.object({ code: z.number().optional(), message: z.string().max(2000).optional(), description: z.string().max(2000).optional() }).loose().optional(),
      envelope: z.object({ sender: z.string().max(320).optional() }).loose().optional(),
      message: z.object({ headers: z.object({ 'message-id': z.string().max(500).optional(), subject: z.string().max(2000).optional() }).loose().optional() }).loose().optional(),
    })
    .loose(),
});

const accepted = z.object({ result: z.enum(['recorded', 'repeated', 'ignored', 'forged', 'unmatched', 'unclassified']) });

const sameHex = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/** Mailgun's event as ours; undefined for events that are no bounce (delivered, opened ...). */
function fromMailgun(data: z.output<typeof mailgunEvent>['event-data']): BounceEvent | undefined {
  const status = data['delivery-status'];
  const code = status?.code ? String(status.code) : '';
  const reason = [code, status?.message || status?.description || data.reason].filter(Boolean).join(' ').slice(0, 500) || data.event;
  const outcome =
    data.event === 'complained' ? 'complaint' : data.event === 'failed' ? (data.severity === 'temporary' ? 'transient' : 'permanent') : undefined;
  if (!outcome) return undefined;
  const messageId = data.message?.headers?.['message-id'];
  return {
    source: 'mailgun',
    outcome,
    recipient: data.recipient?.toLowerCase(),
    status: outcome === 'complaint' ? 'abuse' : /^[45]/.test(code) ? `${code[0]}.0.0` : outcome === 'transient' ? '4.0.0' : '5.0.0',
    reason,
    returnPaths: data.envelope?.sender ? [data.envelope.sender] : [],
    messageIds: messageId ? [`<${messageId.replace(/^<|>$/g, '')}>`] : [],
    subject: data.message?.headers?.subject?.slice(0, 200),
  };
}

export function bounceRoutes(ctx: AppContext) {
  const limiter = new RateLimiterMemory({ points: WEBHOOK_REQUESTS_PER_MINUTE, duration: 60 });
  return [
    defineRoute({
      method: 'post',
      path: '/api/bounces/mailgun',
      tag: 'Bounces',
      summary: 'Mailgun webhook (failed and complained events), signed with MAILGUN_WEBHOOK_SIGNING_KEY; 404 when that is not set',
      access: 'public',
      body: mailgunEvent,
      errors: [404, 429],
      responses: { 200: { description: 'The event was read (result says what it did)', schema: accepted } },
      async handle({ body, req }) {
        const key = ctx.config.mailgunSigningKey;
        if (!key) throw notFound('Webhook');
        try {
          await limiter.consume(req.ip ?? 'unknown');
        } catch {
          throw tooManyRequests('Too many webhook calls from this address; try again in a minute.');
        }
        const { timestamp, token, signature } = body.signature;
        const expected = createHmac('sha256', key).update(`${timestamp}${token}`).digest('hex');
        const age = Math.abs(ctx.clock.now().getTime() / 1000 - Number(timestamp));
        if (!sameHex(signature, expected) || age > WEBHOOK_MAX_AGE_S) {
          ctx.logger.warn({ ip: req.ip }, 'mailgun webhook with a bad or stale signature refused');
          throw unauthorized('The event is not signed with this installation\'s Mailgun webhook signing key, or is too old.');
        }
        const event = fromMailgun(body['event-data']);
        return { status: 200, body: { result: event ? await applyBounce(ctx, event) : 'ignored' } };
      },
    }),
  ];
}
