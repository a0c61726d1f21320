import { createVerify, X509Certificate } from 'node:crypto';
import { outboundRequest } from '../lib/outbound.js';

/*
 * Amazon SNS messages (how SES reports bounces and complaints over HTTPS), checked as
 * https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html says:
 * the signature over the message's fields, with the key of the certificate at
 * SigningCertURL, which must be an https URL of an sns.<region>.amazonaws.com host
 * (anything else could be a certificate of the sender's own). Written here rather than
 * with sns-validator or sns-payload-validator: both fetch the certificate with Node's
 * https module themselves (no fetcher to give them, so not testable offline), and the
 * second keeps the fields being checked in module state shared by concurrent calls.
 */

/** Reads a URL of SNS (certificate, subscription confirmation): the body, or throws. */
export type SnsFetch = (url: string) => Promise<string>;

export interface SnsMessage {
  Type: string;
  MessageId: string;
  TopicArn: string;
  Message: string;
  Timestamp: string;
  Subject?: string | null;
  SubscribeURL?: string;
  Token?: string;
  SignatureVersion?: string;
  Signature?: string;
  SigningCertURL?: string;
}

/** The fields signed, in order, per message type. */
const SIGNED: Record<string, (keyof SnsMessage)[]> = {
  Notification: ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'],
  SubscriptionConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
  UnsubscribeConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
};

const SNS_HOST = /^sns\.[a-z0-9-]{3,40}\.amazonaws\.com(\.cn)?$/;

/** Whether `value` is an https URL of SNS itself (no other port, no credentials). */
export function isSnsUrl(value: string | undefined): boolean {
  if (!value) return false;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && SNS_HOST.test(url.hostname) && !url.port && !url.username && !url.password;
  } catch {
    return false;
  }
}

/** The text SNS signed: `name\nvalue\n` per signed field present (Subject only when given). */
export function snsStringToSign(message: SnsMessage): string | undefined {
  const fields = SIGNED[message.Type];
  if (!fields) return undefined;
  return fields
    .filter((name) => message[name] !== undefined && message[name] !== null)
    .map((name) => `${name}\n${message[name]}\n`)
    .join('');
}

/** Certificates SNS signs with (a handful per region), kept once read. */
const MAX_CACHED = 50;

/** The default fetcher: SNS over the public internet, bounded in time and size. */
export const fetchFromSns: SnsFetch = async (url) => {
  const response = await outboundRequest(url, false, { timeoutMs: 5000, maxBytes: 16 * 1024 });
  if (response.status !== 200 || response.truncated) throw new Error(`SNS answered ${response.status}${response.truncated ? ' (too long)' : ''}`);
  return response.body;
};

export class SnsCertificateError extends Error {}

export class SnsVerifier {
  private readonly certificates = new Map<string, X509Certificate>();

  constructor(private readonly fetch: () => SnsFetch) {}

  private async certificate(url: string, now: Date): Promise<X509Certificate> {
    let certificate = this.certificates.get(url);
    if (!certificate) {
      let pem: string;
      try {
        pem = await this.fetch()(url);
        certificate = new X509Certificate(pem);
      } catch (error) {
        throw new SnsCertificateError(`the SNS signing certificate could not be read: ${(error as Error).message}`);
      }
      if (this.certificates.size >= MAX_CACHED) this.certificates.delete(this.certificates.keys().next().value!);
      this.certificates.set(url, certificate);
    }
    if (new Date(certificate.validTo) < now || new Date(certificate.validFrom) > now) {
      this.certificates.delete(url);
      throw new SnsCertificateError('the SNS signing certificate is not valid now');
    }
    return certificate;
  }

  /**
   * Whether the message is signed by SNS: false for a bad signature, an unknown version or
   * a certificate URL outside SNS; SnsCertificateError when the certificate cannot be had.
   */
  async verify(message: SnsMessage, now: Date): Promise<boolean> {
    const text = snsStringToSign(message);
    const algorithm = message.SignatureVersion === '1' ? 'RSA-SHA1' : message.SignatureVersion === '2' ? 'RSA-SHA256' : undefined;
    if (!text || !algorithm || !message.Signature || !isSnsUrl(message.SigningCertURL)) return false;
    const certificate = await this.certificate(message.SigningCertURL!, now);
    const verifier = createVerify(algorithm);
    verifier.update(text, 'utf8');
    try {
      return verifier.verify(certificate.publicKey, message.Signature, 'base64');
    } catch {
      return false;
    }
  }
}
