import { createHmac, createPublicKey, type KeyObject, timingSafeEqual, verify } from 'node:crypto';
import type { z } from 'zod';
import type { AppContext } from '../context.js';
import { AppError, forbidden, unauthorized } from '../lib/errors.js';
import { parseJsonBody } from '../lib/routes.js';
import { parseBounce } from './parse.js';
import { WEBHOOK_MAX_AGE_S } from './policy.js';
import { applyBounce, type Handled } from './process.js';
import { fromMailgun, fromPostmark, fromSendgrid, fromSes, type mailgunEvent, postmarkEvent, sendgridEvents, snsMessage } from './providers.js';
import { isSnsUrl, SnsCertificateError, SnsVerifier } from './sns.js';

/*
 * What each provider webhook does with a call (routes.ts reads it and answers): check
 * the provider's signature or credentials, on the exact bytes, before the body is
 * parsed; a call without them is 401 (403: signed by SNS, but for a topic not ours), is
 * logged and changes nothing. The events then land where returned messages do
 * (process.ts); each delivery takes each outcome once, so a replayed event changes
 * nothing, which is why SNS and SendGrid events are not refused for their age.
 */

const sameText = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** Whether SendGrid signed the timestamp and the body, as its Event Webhook does (ECDSA P-256, SHA-256, DER in base64). */
function signedBySendgrid(key: KeyObject, signature: string | undefined, timestamp: string | undefined, bytes: Buffer): boolean {
  if (!signature || !timestamp || !/^\d{1,12}$/.test(timestamp)) return false;
  try {
    return verify('sha256', Buffer.concat([Buffer.from(timestamp), bytes]), key, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/** The webhooks of one installation; a provider's is undefined when its settings are not given. */
export function bounceWebhooks(ctx: AppContext) {
  const settings = ctx.config.bounceWebhooks;
  const refuse = (provider: string, ip: string | undefined, error: AppError) => {
    ctx.logger.warn({ provider, ip, status: error.status }, `${provider} webhook refused: ${error.message}`);
    return error;
  };
  const sns = new SnsVerifier(() => ctx.snsFetch);
  const sendgridKey = settings.sendgridPublicKey && createPublicKey({ key: Buffer.from(settings.sendgridPublicKey, 'base64'), format: 'der', type: 'spki' });
  const mailgunKey = ctx.config.mailgunSigningKey;
  const postmark = settings.postmark;

  return {
    mailgun: mailgunKey
      ? async (body: z.output<typeof mailgunEvent>, ip: string | undefined): Promise<Handled> => {
          const { timestamp, token, signature } = body.signature;
          const expected = createHmac('sha256', mailgunKey).update(`${timestamp}${token}`).digest('hex');
          const age = Math.abs(ctx.clock.now().getTime() / 1000 - Number(timestamp));
          if (!sameText(signature, expected) || age > WEBHOOK_MAX_AGE_S) {
            throw refuse('mailgun', ip, unauthorized('The event is not signed with this installation\'s Mailgun webhook signing key, or is too old.'));
          }
          const event = fromMailgun(body['event-data']);
          return event ? applyBounce(ctx, event) : 'ignored';
        }
      : undefined,

    /** An SNS message (SNS posts JSON as text/plain): a SES notification, or the subscription's confirmation. */
    ses: settings.sesTopicArns.length
      ? async (bytes: Buffer, ip: string | undefined): Promise<Handled | 'subscribed'> => {
          const message = parseJsonBody(snsMessage, bytes);
          if (!message.Signature || !message.SigningCertURL) throw refuse('ses', ip, unauthorized('The message is not signed by SNS.'));
          // Checked first: anyone can have SNS sign messages of a topic of their own.
          if (!settings.sesTopicArns.includes(message.TopicArn)) throw refuse('ses', ip, forbidden('The message is of an SNS topic not in SES_SNS_TOPIC_ARNS.'));
          let valid: boolean;
          try {
            valid = await sns.verify(message, ctx.clock.now());
          } catch (error) {
            if (!(error instanceof SnsCertificateError)) throw error;
            ctx.logger.warn({ url: message.SigningCertURL, error: error.message }, 'ses webhook: no SNS certificate');
            // SNS tries again on a 5xx.
            throw new AppError(503, 'busy', 'The SNS signing certificate could not be read; try again later.');
          }
          if (!valid) throw refuse('ses', ip, unauthorized('The message\'s SNS signature does not verify.'));
          if (message.Type === 'SubscriptionConfirmation') {
            if (!isSnsUrl(message.SubscribeURL)) throw refuse('ses', ip, unauthorized('The SubscribeURL is not of SNS.'));
            try {
              await ctx.snsFetch(message.SubscribeURL!);
            } catch (error) {
              ctx.logger.warn({ topic: message.TopicArn, error: (error as Error).message }, 'ses webhook: SNS subscription not confirmed');
              throw new AppError(503, 'busy', 'The subscription could not be confirmed with SNS now; try again later.');
            }
            ctx.logger.info({ topic: message.TopicArn }, 'ses webhook: SNS subscription confirmed');
            return 'subscribed';
          }
          const event = message.Type === 'Notification' ? fromSes(message.Message) : undefined;
          return event ? applyBounce(ctx, event) : 'ignored';
        }
      : undefined,

    /** Postmark's credentials (basic auth), checked before the body is read; then its event. */
    postmark: postmark
      ? {
          checkAuthorization(authorization: string | undefined, ip: string | undefined): void {
            const given = /^Basic ([A-Za-z0-9+/=]{1,1000})$/.exec(authorization ?? '')?.[1];
            const expected = Buffer.from(`${postmark.user}:${postmark.password}`).toString('base64');
            if (!given || !sameText(given, expected)) {
              throw refuse('postmark', ip, unauthorized('The call does not carry this installation\'s Postmark webhook credentials.'));
            }
          },
          async receive(bytes: Buffer): Promise<Handled> {
            const body = parseJsonBody(postmarkEvent, bytes);
            const event = fromPostmark(body);
            if (!event) return 'ignored';
            // Postmark's MessageID is its own: the original's is in the returned message, when included.
            const content = body.Content ? await parseBounce(Buffer.from(body.Content)).catch(() => undefined) : undefined;
            return applyBounce(ctx, { ...event, messageIds: content?.messageIds ?? [] });
          },
        }
      : undefined,

    /** A SendGrid batch with its signature headers. */
    sendgrid: sendgridKey
      ? async (bytes: Buffer, signature: string | undefined, timestamp: string | undefined, ip: string | undefined): Promise<Handled[]> => {
          if (!signedBySendgrid(sendgridKey, signature, timestamp, bytes)) {
            throw refuse('sendgrid', ip, unauthorized('The events are not signed with the key of SENDGRID_WEBHOOK_PUBLIC_KEY.'));
          }
          const results: Handled[] = [];
          for (const item of parseJsonBody(sendgridEvents, bytes)) {
            const event = fromSendgrid(item);
            results.push(event ? await applyBounce(ctx, event) : 'ignored');
          }
          return results;
        }
      : undefined,
  };
}
