import type { AddressInfo } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { createMailer } from '../src/lib/mailer.js';
import { composeTemplate, messageFor } from '../src/delivery/message.js';
import type { RenderedEmail } from '../src/delivery/render.js';

/*
 * The release email built once as MIME bytes with slots (delivery/message.ts), then
 * filled per recipient: what a mail client parses must be what a per-recipient
 * composition would have given, whatever lands in a slot and wherever it lands.
 */

const LONG_TEXT = 'Kirjasto on auki joka päivä, myös öisin; ålänningar välkomna. '.repeat(6);
const email: RenderedEmail = {
  subject: 'Uusi kirjasto avataan – ääkköset',
  // Cut at the link placeholders as render.ts cuts it: odd indexes name the link.
  html: [`<p>${LONG_TEXT}</p><a href="`, 'unsubscribe', '">Peru tilaus</a> <a href="', 'preferences', '">Asetukset</a>'],
  text: [`${LONG_TEXT}\n\nPeru tilaus: `, 'unsubscribe', '\nAsetukset: ', 'preferences', '\n'],
  ics: Buffer.from('BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n'),
};
const headers = { fromName: 'Länsi "Esimerkki"', fromAddress: 'news@example.test', host: 'news.example.test', listId: { url: 'lansi.news.example.test', comment: 'Länsi' } };

// Longer than a quoted-printable line, with characters that QP ('=') and HTML ('&') escape.
const linksOf = (n: number) => ({
  unsubscribe: `https://news.example.test/unsubscribe/${'a'.repeat(90)}${n}.sig_-${n}`,
  preferences: `https://news.example.test/preferences?token=${n}&lang=fi`,
});

describe('a release message built once and filled per recipient', () => {
  it('gives each recipient their own address, Message-ID, date and links, in headers and both parts', async () => {
    const template = await composeTemplate(email, headers);
    const date = new Date('2026-05-04T09:00:00Z');
    for (const n of [1, 2]) {
      const raw = messageFor(template, { address: `reader${n}@example.org`, messageIdLocal: `delivery-${n}`, date, links: linksOf(n) });
      const mail = await simpleParser(raw);
      const links = linksOf(n);
      expect(mail.to).toMatchObject({ value: [{ address: `reader${n}@example.org` }] });
      expect(mail.messageId).toBe(`<delivery-${n}@news.example.test>`);
      expect(mail.date?.toISOString()).toBe(date.toISOString());
      expect(mail.subject).toBe(email.subject);
      expect(mail.from?.value[0]).toEqual({ name: headers.fromName, address: 'news@example.test' });
      const header = (key: string) => mail.headerLines.find((h) => h.key === key)?.line;
      expect(header('list-unsubscribe')).toBe(`List-Unsubscribe: <${links.unsubscribe}>`);
      expect(header('list-unsubscribe-post')).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
      expect(header('list-id')).toContain('<lansi.news.example.test>');
      // The HTML part has the links HTML-escaped, the text part as they are; both decode whole.
      expect(mail.html).toBe(`<p>${LONG_TEXT}</p><a href="${links.unsubscribe}">Peru tilaus</a> <a href="${links.preferences.replace('&', '&amp;')}">Asetukset</a>`);
      expect(mail.text?.replace(/\r\n/g, '\n')).toBe(`${LONG_TEXT}\n\nPeru tilaus: ${links.unsubscribe}\nAsetukset: ${links.preferences}\n`);
      expect(mail.attachments.map((a) => [a.filename, a.content.toString()])).toEqual([['event.ics', email.ics!.toString()]]);
      // Every line within the limit of its encoding: nothing a strict relay would refuse.
      const [head, ...body] = raw.toString('latin1').split('\r\n\r\n');
      expect(head).not.toMatch(/[^\x20-\x7e\r\n\t]/);
      expect(Math.max(...body.join('\r\n\r\n').split('\r\n').map((l) => l.length))).toBeLessThanOrEqual(76);
    }
  });

  it('refuses a value that would add a header line of its own, and leaves the template usable', async () => {
    const template = await composeTemplate(email, headers);
    const date = new Date();
    expect(() => messageFor(template, { address: 'a@example.org\r\nBcc: victim@example.org', messageIdLocal: 'x', date, links: linksOf(1) })).toThrow(/not a value for a mail header/);
    expect(() => messageFor(template, { address: 'a@example.org', messageIdLocal: 'x', date, links: { ...linksOf(1), unsubscribe: 'https://x/\ny' } })).toThrow(/not a value for a mail header/);
    const mail = await simpleParser(messageFor(template, { address: 'b@example.org', messageIdLocal: 'y', date, links: linksOf(3) }));
    expect(mail.headers.get('bcc')).toBeUndefined();
    expect(mail.to).toMatchObject({ value: [{ address: 'b@example.org' }] });
  });
});

describe('the SMTP pool warmed before a release is due', () => {
  it('opens its connections ahead, and the messages then sent open no more', async () => {
    let connections = 0;
    let messages = 0;
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onConnect: (_session, callback) => {
        connections++;
        callback();
      },
      onData: (stream, _session, callback) => {
        stream.resume();
        stream.on('end', () => {
          messages++;
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const mailer = createMailer({ smtpUrl: `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`, outboxDir: '/nonexistent', poolSize: 3 });
    try {
      expect(await mailer.warm()).toBe(3);
      expect(connections).toBe(3);
      // Already open: warming again opens nothing.
      expect(await mailer.warm()).toBe(0);
      const template = await composeTemplate(email, headers);
      await Promise.all(
        [1, 2, 3, 4, 5, 6].map((n) =>
          mailer.sendRaw({
            raw: messageFor(template, { address: `reader${n}@example.org`, messageIdLocal: `d${n}`, date: new Date(), links: linksOf(n) }),
            envelope: { from: 'bounces@example.test', to: `reader${n}@example.org` },
            messageId: `<d${n}@news.example.test>`,
          }),
        ),
      );
      expect(messages).toBe(6);
      expect(connections).toBe(3);
    } finally {
      mailer.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
