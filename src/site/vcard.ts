import type { Contact } from '../contacts/repository.js';

/*
 * A contact as a vCard 4.0 (RFC 6350): text values escaped (backslash, comma, semicolon,
 * newline; other control characters dropped), lines folded at 75 octets without
 * splitting a UTF-8 character, CRLF endings.
 */

/** RFC 6350 3.4: a text value with its special characters escaped (and other control characters, which no text value holds, dropped). */
export const escapeText = (value: string) =>
  value
    .replace(/\\/g, '\\\\')
    .replace(/,/g, '\\,')
    .replace(/;/g, '\\;')
    .replace(/\r\n|\r|\n/g, '\\n')
    .replace(/\p{Cc}/gu, '');

/** RFC 6350 3.2: lines longer than 75 octets continue on lines that start with a space. */
export function foldLine(line: string): string {
  const parts: string[] = [];
  let current = '';
  let octets = 0;
  for (const char of line) {
    const size = Buffer.byteLength(char);
    const limit = parts.length === 0 ? 75 : 74; // a continuation's leading space counts
    if (octets + size > limit) {
      parts.push(current);
      current = '';
      octets = 0;
    }
    current += char;
    octets += size;
  }
  parts.push(current);
  return parts.join('\r\n ');
}

/** A phone number as a `tel:` URI: digits, and the leading + of an international number. */
export const telUri = (phone: string) => `tel:${phone.trim().startsWith('+') ? '+' : ''}${phone.replace(/\D/g, '')}`;

export interface VcardInput {
  contact: Contact;
  /** The newsroom's name, as organisation. */
  organisation: string;
  /** The contact's title per language, first language first. */
  languages: string[];
  /** A page about the newsroom. */
  url: string;
}

export function contactVcard({ contact, organisation, languages, url }: VcardInput): string {
  const titles = languages.filter((lang) => contact.title[lang]);
  const lines = [
    'BEGIN:VCARD',
    'VERSION:4.0',
    `FN:${escapeText(contact.name)}`,
    `ORG:${escapeText(organisation)}`,
    // The same title in several languages: alternatives of one property (RFC 6350 5.4).
    ...titles.map((lang) => `TITLE;LANGUAGE=${lang}${titles.length > 1 ? ';ALTID=1' : ''}:${escapeText(contact.title[lang]!)}`),
    ...(contact.phone ? [`TEL;VALUE=uri;TYPE=work,voice:${telUri(contact.phone)}`] : []),
    ...(contact.email ? [`EMAIL;TYPE=work:${escapeText(contact.email)}`] : []),
    `URL:${url}`,
    `REV:${contact.updatedAt.replace(/[-:]/g, '').replace(/\.\d+/, '')}`,
    'END:VCARD',
  ];
  return `${lines.map(foldLine).join('\r\n')}\r\n`;
}
