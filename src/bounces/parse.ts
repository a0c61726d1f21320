import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Headers, Splitter } from '@zone-eu/mailsplit';
import type { MimeNode } from '@zone-eu/mailsplit';
import { MAX_BOUNCE_BYTES, MAX_REASON_CHARS } from './policy.js';

/*
 * What a returned message says, read with mailsplit (mailparser's MIME splitter): a DSN
 * (RFC 3464, `multipart/report; report-type=delivery-status`) gives a status per
 * recipient, an ARF feedback report (RFC 5965) a complaint. The message is hostile input:
 * nothing of it is rendered, only short header fields are kept, and it is read up to
 * MAX_BOUNCE_BYTES.
 */

export type Outcome =
  /** Failed for good (5.x.x): the address does not take mail. */
  | 'permanent'
  /** Failed after the remote server gave up on temporary errors (4.x.x): mailbox full, server down for days. */
  | 'transient'
  /** Still being tried by a server on the way (Action: delayed): a warning, counted nowhere. */
  | 'delayed'
  /** The recipient marked it as spam (ARF). */
  | 'complaint';

export interface RecipientReport {
  outcome: Outcome;
  /** The recipient the report is about (Final-Recipient, or ARF's Original-Rcpt-To), lower case. */
  recipient: string | undefined;
  /** The enhanced status code, e.g. 5.1.1 (for a complaint: the feedback type). */
  status: string;
  /** Diagnostic-Code, or what stands in for it; one line, shortened. */
  reason: string;
}

export interface ParsedBounce {
  /** Per-recipient results; empty when the message could not be classified. */
  reports: RecipientReport[];
  /** Addresses the message names as where the original came from or went back to (verified later, never trusted). */
  returnPaths: string[];
  /** Message-IDs of the returned original message (its headers or the whole of it). */
  messageIds: string[];
  /** For staff: the report's Subject and From, one line each, shortened. */
  subject: string;
  from: string;
}

export class BounceTooLarge extends Error {}

const oneLine = (text: string, max = MAX_REASON_CHARS) =>
  text.replace(/[\p{Cc}\p{Zl}\p{Zp}]+/gu, ' ').replace(/ {2,}/g, ' ').trim().slice(0, max);

/** `rfc822; someone@example.net` or `<someone@example.net>` -> someone@example.net */
const addressOf = (field: string) => {
  const value = field.includes(';') ? field.slice(field.indexOf(';') + 1) : field;
  const address = value.trim().replace(/^<|>$/g, '').trim().toLowerCase();
  return address.includes('@') ? address : undefined;
};

const messageIdsOf = (value: string) => [...value.matchAll(/<([^<>\s]{1,500})>/g)].map((m) => `<${m[1]}>`);

/** Header blocks separated by empty lines (the per-message and per-recipient fields of a report). */
const headerBlocks = (text: string) =>
  text
    .split(/\r?\n[ \t]*\r?\n/)
    .filter((block) => block.trim())
    .map((block) => new Headers(Buffer.from(`${block.trim()}\r\n`)));

interface Part {
  node: MimeNode;
  chunks: Buffer[];
}

/** Content types whose bodies are read: the machine-readable parts of reports. */
const READ = new Set([
  'message/delivery-status',
  'message/global-delivery-status',
  'message/feedback-report',
  'text/rfc822-headers',
  'message/global-headers',
  // An attached original that the splitter leaves whole (Content-Disposition: attachment): its headers are read.
  'message/rfc822',
]);

async function splitParts(raw: Buffer): Promise<{ top: MimeNode | undefined; parts: Part[]; nodes: MimeNode[] }> {
  const splitter = new Splitter({ maxHeadSize: 256 * 1024, defaultInlineEmbedded: true });
  const nodes: MimeNode[] = [];
  const parts: Part[] = [];
  let current: Part | undefined;
  splitter.on('data', (data) => {
    if (data.type === 'node') {
      nodes.push(data as MimeNode);
      const node = data as MimeNode;
      current = READ.has(String(node.contentType)) && !node.messageNode ? { node, chunks: [] } : undefined;
      if (current) parts.push(current);
    } else if (data.type === 'body' && current) {
      current.chunks.push(data.value);
    }
  });
  await pipeline(Readable.from([raw]), splitter);
  return { top: nodes[0], parts, nodes };
}

async function decoded(part: Part): Promise<string> {
  const decoder = part.node.getDecoder();
  const out: Buffer[] = [];
  decoder.on('data', (chunk: Buffer) => out.push(chunk));
  const done = new Promise<void>((resolve, reject) => {
    decoder.on('end', resolve);
    decoder.on('error', reject);
  });
  for (const chunk of part.chunks) decoder.write(chunk);
  decoder.end();
  await done;
  return Buffer.concat(out).toString('utf8');
}

/** A DSN's Action and Status as an outcome; undefined for delivered, relayed, expanded. */
function outcomeOf(action: string, status: string): Outcome | undefined {
  if (action === 'delayed') return 'delayed';
  if (action !== 'failed') return undefined;
  return status.startsWith('4') ? 'transient' : 'permanent';
}

/** Reads a returned message; throws BounceTooLarge past MAX_BOUNCE_BYTES. */
export async function parseBounce(raw: Buffer): Promise<ParsedBounce> {
  if (raw.length > MAX_BOUNCE_BYTES) throw new BounceTooLarge(`a returned message is read up to ${MAX_BOUNCE_BYTES} bytes`);
  const { top, parts, nodes } = await splitParts(raw);
  const headers = top?.headers || new Headers('');
  const result: ParsedBounce = {
    reports: [],
    returnPaths: [],
    messageIds: [],
    subject: oneLine(headers.getDecoded('subject')[0]?.value ?? headers.getFirst('subject'), 200),
    from: oneLine(headers.getFirst('from'), 200),
  };
  // Where the report was sent to: the return path, as the receiving system wrote it down.
  for (const name of ['delivered-to', 'x-original-to', 'envelope-to', 'to']) {
    for (const value of headers.get(name)) {
      for (const [, address] of value.matchAll(/([^\s<>,;:"]+@[^\s<>,;:"]+)/g)) result.returnPaths.push(address!.toLowerCase());
    }
  }
  // The returned original: an embedded message's own headers, or its headers alone.
  for (const node of nodes.slice(1)) {
    if (node.headers && node.parentNode && (node.parentNode as MimeNode).contentType === 'message/rfc822') {
      result.messageIds.push(...messageIdsOf(node.headers.getFirst('message-id')));
    }
  }
  for (const part of parts) {
    const type = String(part.node.contentType);
    const text = await decoded(part);
    if (type === 'text/rfc822-headers' || type === 'message/global-headers' || type === 'message/rfc822') {
      const head = text.split(/\r?\n\r?\n/, 1)[0]!;
      result.messageIds.push(...messageIdsOf(new Headers(Buffer.from(`${head}\r\n`)).getFirst('message-id')));
    } else if (type === 'message/feedback-report') {
      const [fields] = headerBlocks(text);
      if (!fields) continue;
      const mailFrom = addressOf(fields.getFirst('original-mail-from'));
      if (mailFrom) result.returnPaths.unshift(mailFrom);
      result.reports.push({
        outcome: 'complaint',
        recipient: addressOf(fields.getFirst('original-rcpt-to')),
        status: oneLine(fields.getFirst('feedback-type') || 'abuse', 40),
        reason: oneLine(`complaint: ${fields.getFirst('feedback-type') || 'abuse'}`),
      });
    } else {
      // message/delivery-status: the first block is about the message, each next one about a recipient.
      const [about, ...recipients] = headerBlocks(text);
      if (about) result.messageIds.push(...messageIdsOf(about.getFirst('x-original-message-id')));
      for (const fields of recipients) {
        const action = fields.getFirst('action').trim().toLowerCase();
        const diagnostic = fields.getFirst('diagnostic-code');
        const status = /\b([245])\.\d{1,3}\.\d{1,3}\b/.exec(fields.getFirst('status'))?.[0] ?? /\b([245])\d\d\b/.exec(diagnostic)?.[1] ?? '';
        const outcome = outcomeOf(action, status);
        if (!outcome) continue;
        result.reports.push({
          outcome,
          recipient: addressOf(fields.getFirst('final-recipient') || fields.getFirst('original-recipient')),
          status: status.length > 1 ? status : `${status || '5'}.0.0`,
          reason: oneLine(diagnostic.replace(/^[^;]*;\s*/, '') || `${action} ${status}`),
        });
      }
    }
  }
  result.messageIds = [...new Set(result.messageIds)];
  result.returnPaths = [...new Set(result.returnPaths)];
  return result;
}
