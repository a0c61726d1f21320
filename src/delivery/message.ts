import { randomBytes } from 'node:crypto';
import nodemailer from 'nodemailer';
import { encode as qpEncode, wrap as qpWrap } from 'nodemailer/lib/qp';
import { escapeHtml } from '../lib/html.js';
import { withHeaderText } from '../lib/mailer.js';
import type { Links, RenderedEmail } from './render.js';

/*
 * A release email as MIME bytes built once per (release, language, version), the way a
 * batch sender renders one message for all its recipients: what differs per recipient
 * is a slot, filled by copying bytes. Each slot is escaped for where it lands: a header
 * takes printable ASCII only; the HTML part takes the link HTML-escaped; both body parts
 * are quoted-printable, encoded here piece by piece, each slot between soft line breaks,
 * so that no encoding or line folding ever cuts through a slot and the value put in is
 * encoded as the rest of its part.
 */

const SLOTS = ['to', 'messageId', 'date', 'listUnsubscribe', 'htmlUnsubscribe', 'htmlPreferences', 'textUnsubscribe', 'textPreferences'] as const;
type Slot = (typeof SLOTS)[number];

/** The message cut at its slots: `pieces[i]`, then `slots[i]`'s value, then `pieces[i + 1]` ... */
export interface MessageTemplate {
  pieces: Buffer[];
  slots: Slot[];
}

export interface MessageHeaders {
  fromName: string;
  fromAddress: string;
  /** The host of Message-IDs. */
  host: string;
  listId: { url: string; comment: string };
}

export interface Addressee {
  address: string;
  /** The local part of the Message-ID: `<id@host>`. */
  messageIdLocal: string;
  date: Date;
  links: Links;
}

/** Line length of the quoted-printable parts: 75 with room for the soft break put after a piece. */
const QP_LINE = 75;

const quotedPrintable = (text: string) => qpWrap(qpEncode(text.replace(/\r?\n/g, '\r\n')), QP_LINE);

/** A body part as a complete MIME node (headers and quoted-printable body), links as slot tokens. */
function bodyNode(contentType: string, pieces: string[], token: (link: string) => string): string {
  const body = pieces.map((p, i) => (i % 2 ? `=\r\n${token(p)}=\r\n` : quotedPrintable(p))).join('');
  return `Content-Type: ${contentType}; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n${body}`;
}

/** nodemailer composing into a buffer, as its SMTP transport would (list headers included), sending nothing. */
const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' } as never);

/** Builds the message with unique ASCII tokens where the slots go, then cuts it there. */
export async function composeTemplate(email: RenderedEmail, headers: MessageHeaders): Promise<MessageTemplate> {
  // Random per message: no release text can contain a token by accident.
  const nonce = randomBytes(8).toString('hex');
  const token = (slot: Slot) => `zslot${nonce}${slot.toLowerCase()}z`;
  const linkToken = (part: 'html' | 'text') => (link: string) => token(`${part}${link[0]!.toUpperCase()}${link.slice(1)}` as Slot);
  const info = await composer.sendMail(
    withHeaderText({
      from: { name: headers.fromName, address: headers.fromAddress },
      to: `${token('to')}@slot.invalid`,
      subject: email.subject,
      messageId: `<${token('messageId')}@${headers.host}>`,
      headers: { Date: token('date'), 'List-Unsubscribe': `<${token('listUnsubscribe')}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
      list: { id: headers.listId },
      text: { raw: bodyNode('text/plain', email.text, linkToken('text')) },
      html: { raw: bodyNode('text/html', email.html, linkToken('html')) },
      // An invitation's event, for the reader's calendar (the same file as the page's event.ics).
      ...(email.ics ? { attachments: [{ filename: 'event.ics', content: email.ics, contentType: 'text/calendar; charset=utf-8; method=PUBLISH' }] } : {}),
    }),
  );
  const message = (info.message as Buffer).toString('latin1').replace(`${token('to')}@slot.invalid`, token('to'));
  const byToken = new Map(SLOTS.map((s) => [token(s), s]));
  const parts = message.split(new RegExp(`(${[...byToken.keys()].join('|')})`));
  const template: MessageTemplate = { pieces: [], slots: [] };
  parts.forEach((part, i) => (i % 2 ? template.slots.push(byToken.get(part)!) : template.pieces.push(Buffer.from(part, 'latin1'))));
  const missing = SLOTS.filter((s) => !template.slots.includes(s));
  if (missing.length) throw new Error(`release email without its ${missing.join(', ')} slot`);
  return template;
}

/** A header value must stay one line of printable ASCII, or it could add headers of its own. */
function headerValue(value: string): string {
  if (!/^[\x21-\x7e]+$/.test(value)) throw new Error(`not a value for a mail header: ${JSON.stringify(value)}`);
  return value;
}

/** RFC 5322 date, as nodemailer writes it. */
const mailDate = (date: Date) => date.toUTCString().replace(/GMT/, '+0000');

/** The message for one recipient: the template's bytes with each slot filled. */
export function messageFor(template: MessageTemplate, to: Addressee): Buffer {
  const values: Record<Slot, string> = {
    to: headerValue(to.address),
    messageId: headerValue(to.messageIdLocal),
    date: mailDate(to.date),
    listUnsubscribe: headerValue(to.links.unsubscribe),
    htmlUnsubscribe: qpWrap(qpEncode(escapeHtml(to.links.unsubscribe)), QP_LINE),
    htmlPreferences: qpWrap(qpEncode(escapeHtml(to.links.preferences)), QP_LINE),
    textUnsubscribe: qpWrap(qpEncode(to.links.unsubscribe), QP_LINE),
    textPreferences: qpWrap(qpEncode(to.links.preferences), QP_LINE),
  };
  const chunks: Buffer[] = [template.pieces[0]!];
  template.slots.forEach((slot, i) => chunks.push(Buffer.from(values[slot], 'latin1'), template.pieces[i + 1]!));
  return Buffer.concat(chunks);
}

/**
 * The message templates of the releases being sent, per worker process (a restart builds
 * them again). Concurrent jobs of one release share one build.
 */
export class MessageCache {
  private readonly entries = new Map<string, Promise<MessageTemplate>>();
  constructor(private readonly limit = 32) {}

  get(key: string, build: () => Promise<MessageTemplate>): Promise<MessageTemplate> {
    let entry = this.entries.get(key);
    if (!entry) {
      entry = build();
      entry.catch(() => this.entries.delete(key));
      this.entries.set(key, entry);
      // Oldest out: only the releases being sent right now matter.
      if (this.entries.size > this.limit) this.entries.delete(this.entries.keys().next().value!);
    }
    return entry;
  }
}
