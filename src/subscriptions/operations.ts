import type { Transaction } from 'kysely';
import type { AppContext } from '../context.js';
import type { ConfirmationSource, Database } from '../lib/db/schema.js';
import { type FieldError, notFound, unprocessable } from '../lib/errors.js';
import { t } from '../lib/i18n.js';
import { email, foreignLanguage } from '../lib/schemas.js';
import { isoTime } from '../lib/time.js';
import { eraseJournalistAddress, journalistDataHeldAbout } from '../journalists/operations.js';
import { findNewsroomById, type Newsroom } from '../newsrooms/repository.js';
import { addressHash, hashConfirmationToken, ipHash, verifySubscriberToken } from './links.js';
import { INVITATION_WINDOW_MS, queueConfirmationEmails } from './mail.js';
import {
  addressesAskedSince,
  type Consent,
  confirmationsFromIp,
  confirmationsOf,
  confirmSubscriber,
  deleteSubscribers,
  deliveriesOf,
  emailKey,
  ensureSubscriber,
  findConfirmationByToken,
  findSubscriber,
  findInvitationBudget,
  findSubscribersByEmail,
  insertConfirmation,
  insertConfirmedSubscribers,
  invitationsSince,
  latestConfirmationId,
  lockInvitationBudget,
  markUnsubscribed,
  replaceKeywords,
  setInvitationBudget,
  type Subscriber,
  subscribersAfter,
  subscribersByEmailKeys,
  takeAddressSlot,
  takeInvitationSlot,
  updatePreferences,
  useConfirmation,
} from './repository.js';
import { type ImportInput, importedSubscriber, keywordList, MAX_IMPORT, type SubscribeInput } from './schemas.js';

/** At most one confirmation email per address and newsroom in this time. */
export const ADDRESS_INTERVAL_MS = 5 * 60_000;
/** At most this many confirmation emails per requesting IP per hour, whatever the addresses. */
export const PER_IP_PER_HOUR = 20;

export const newsroomName = (newsroom: Newsroom, lang: string) =>
  newsroom.name[lang] ?? newsroom.name[newsroom.languages[0]!] ?? newsroom.slug;

/** The words a subscriber agrees to, as the form and the confirmation page show them (and consent records). */
export const consentWording = (newsroom: Newsroom, lang: string) =>
  t(lang, 'subscriptions.consentText', { newsroom: newsroomName(newsroom, lang) });

/** Keywords once each, case-insensitively, in the form first given. */
const distinctKeywords = (keywords: readonly string[]) => {
  const seen = new Set<string>();
  return keywords.filter((k) => !seen.has(k.toLowerCase()) && seen.add(k.toLowerCase()));
};

/** The subscriber's languages checked against the newsroom's; none given means its first. */
export function checkLanguages(newsroom: Newsroom, languages: readonly string[], path = 'languages'): { languages: string[]; errors: FieldError[] } {
  const errors = languages.flatMap((lang, index) =>
    newsroom.languages.includes(lang) ? [] : [foreignLanguage(`${path}.${index}`, lang, newsroom.languages)],
  );
  const chosen = [...new Set(languages)];
  return { languages: chosen.length ? chosen : [newsroom.languages[0]!], errors };
}

/** Language of pages and email for a request: the first asked for, when the newsroom has it. */
export const requestLanguage = (newsroom: Newsroom, languages: readonly string[]) =>
  languages.find((lang) => newsroom.languages.includes(lang)) ?? newsroom.languages[0]!;

/**
 * A subscribe request. It records a confirmation email to send (the mail worker sends it)
 * unless a rate limit says no; either way the caller answers the same. Nothing about the
 * subscription changes until the emailed link is confirmed.
 *
 * Nor does the time the answer takes tell much: an address asked within
 * ADDRESS_INTERVAL_MS gets no new email, but its pending one is queued again (a no-op for
 * Redis when it is still queued, a skip for the worker once sent), so both paths make the
 * same queue call, the costly part; they differ only by one row written (the new
 * request's) against one read. (The per-IP limit depends on the asker alone.)
 */
export async function requestSubscription(ctx: AppContext, newsroom: Newsroom, input: SubscribeInput, requesterIp: string): Promise<void> {
  const { languages, errors } = checkLanguages(newsroom, input.languages);
  if (errors.length) throw unprocessable('A language the newsroom does not have.', errors);
  const keywords = distinctKeywords(input.keywords);
  const now = ctx.clock.now();
  const ip = ipHash(ctx.config.signingSecret, requesterIp);
  const toQueue = await ctx.db.transaction().execute(async (trx) => {
    if ((await confirmationsFromIp(trx, ip, isoTime(new Date(now.getTime() - 3600_000)))) >= PER_IP_PER_HOUR) return undefined;
    const subscriber = await ensureSubscriber(trx, newsroom.id, input.email, { languages, keywords }, isoTime(now));
    const asked = await askToConfirm(trx, subscriber, { languages, keywords }, { ipHash: ip, source: 'form' }, now);
    return asked ?? (await latestConfirmationId(trx, subscriber.id));
  });
  if (toQueue) await queueConfirmationEmails(ctx.subscriptionMail, [toQueue]);
  else ctx.logger.info({ newsroom: newsroom.slug }, 'subscribe request over the per-IP limit: no email');
}

/**
 * The one way an address is asked to confirm (the form's request and the staff's
 * invitation alike): the per-address slot, then a confirmation email recorded for the
 * mail worker, carrying the wishes that confirming applies. Undefined when the address
 * was already asked within ADDRESS_INTERVAL_MS.
 */
async function askToConfirm(
  trx: Transaction<Database>,
  subscriber: Subscriber,
  wishes: { languages: string[]; keywords: string[] },
  asker: { ipHash: string; source: ConfirmationSource },
  now: Date,
): Promise<string | undefined> {
  const slot = await takeAddressSlot(trx, subscriber.id, isoTime(now), isoTime(new Date(now.getTime() - ADDRESS_INTERVAL_MS)));
  if (!slot) return undefined;
  return insertConfirmation(trx, { subscriberId: subscriber.id, lang: wishes.languages[0]!, ...wishes, ...asker, now: isoTime(now) });
}

/** One address to invite, as read from a staff upload (`line`: where it stands in the file). */
export interface InviteRow {
  line: number;
  email: string;
  languages: string[];
  keywords: string[];
}

/**
 * How many addresses the newsroom's staff may invite in INVITATION_WINDOW_MS: its own
 * number when the admin set one, else INVITATIONS_PER_DAY.
 */
export interface InvitationBudget {
  perDay: number;
  /** True when the installation's INVITATIONS_PER_DAY applies (the admin set the newsroom none of its own). */
  isDefault: boolean;
  /** Addresses invited in the last 24 hours. */
  used: number;
  left: number;
  /** When the oldest invitation of the last 24 hours stops counting (null: none counts now). */
  freesAt: string | null;
}

export async function getInvitationBudget(ctx: AppContext, newsroom: Newsroom): Promise<InvitationBudget> {
  const now = ctx.clock.now();
  const [own, { count, oldest }] = await Promise.all([
    findInvitationBudget(ctx.db, newsroom.id),
    invitationsSince(ctx.db, newsroom.id, isoTime(new Date(now.getTime() - INVITATION_WINDOW_MS))),
  ]);
  const perDay = own ?? ctx.config.invitationsPerDay;
  return {
    perDay,
    isDefault: own === null,
    used: count,
    left: Math.max(0, perDay - count),
    freesAt: oldest === null ? null : isoTime(new Date(Date.parse(oldest) + INVITATION_WINDOW_MS)),
  };
}

/** The admin gives a newsroom its own number a day, or (null) puts it back on INVITATIONS_PER_DAY. */
export async function changeInvitationBudget(ctx: AppContext, newsroom: Newsroom, perDay: number | null): Promise<InvitationBudget> {
  await setInvitationBudget(ctx.db, newsroom.id, perDay);
  return getInvitationBudget(ctx, newsroom);
}

export type InviteRejection = {
  line: number;
  reason: 'noEmail' | 'email' | 'language' | 'keywords' | 'duplicate';
  /** The value at fault (for `duplicate`, the line of the first occurrence). */
  value: string;
};

export interface InviteResult {
  invited: number;
  alreadySubscribed: number;
  /** Unsubscribed, by their own choice or suppressed after hard bounces: never asked again by staff. */
  suppressed: number;
  /** Asked to confirm within INVITATION_WINDOW_MS, here or anywhere: not asked again yet. */
  recentlyAsked: number;
  /** Lines of addresses not asked because the newsroom's budget was spent: they can be invited once it frees. */
  overBudget: number[];
  /** The budget as the upload left it. */
  budget: InvitationBudget;
  rejected: InviteRejection[];
}

const INVITE_CHUNK = 500;

/**
 * Staff invite a list of addresses (a CSV upload): each valid address that is not
 * subscribed is made pending, if new, and asked to confirm through the same double
 * opt-in as the public form; nobody is subscribed until they confirm. Confirmed
 * addresses are left as they are, unsubscribed ones are never asked again.
 *
 * So that a newsroom token cannot make the service a spam relay: no address asked to
 * confirm in the last INVITATION_WINDOW_MS (by any newsroom's invitation or form) is
 * invited, and each newsroom invites at most its budget in that window, in the order of
 * the file; the rest are reported, to be invited later. Both are decided in the database.
 * The per-IP limit guards the public form against strangers; these requests come from
 * signed-in staff, so they are recorded under the newsroom instead of an IP, neither
 * held back by nor counting against anyone's IP.
 */
export async function inviteSubscribers(ctx: AppContext, newsroom: Newsroom, rows: readonly InviteRow[]): Promise<InviteResult> {
  if (rows.length > MAX_IMPORT) throw unprocessable(`At most ${MAX_IMPORT} addresses at a time.`);
  const rejected: InviteRejection[] = [];
  const firstLine = new Map<string, number>();
  const entries: { line: number; email: string; key: string; hash: string; languages: string[]; keywords: string[] }[] = [];
  for (const row of rows) {
    const address = email.safeParse(row.email);
    const { languages, errors } = checkLanguages(newsroom, row.languages);
    const keywords = keywordList.safeParse(row.keywords);
    const key = emailKey(row.email);
    const reject = (reason: InviteRejection['reason'], value: string) => rejected.push({ line: row.line, reason, value: value.slice(0, 254) });
    if (!row.email) reject('noEmail', '');
    else if (!address.success) reject('email', row.email);
    else if (errors.length) reject('language', row.languages.filter((lang) => !newsroom.languages.includes(lang)).join(' '));
    else if (!keywords.success) reject('keywords', row.keywords.join(', '));
    else if (firstLine.has(key)) reject('duplicate', String(firstLine.get(key)));
    else {
      firstLine.set(key, row.line);
      const hash = addressHash(ctx.config.signingSecret, key);
      entries.push({ line: row.line, email: address.data, key, hash, languages, keywords: distinctKeywords(keywords.data) });
    }
  }

  const counts = { invited: 0, alreadySubscribed: 0, suppressed: 0, recentlyAsked: 0, overBudget: [] as number[] };
  const ip = ipHash(ctx.config.signingSecret, `staff-invitation:${newsroom.id}`);
  for (let i = 0; i < entries.length; i += INVITE_CHUNK) {
    const chunk = entries.slice(i, i + INVITE_CHUNK);
    const now = ctx.clock.now();
    const since = isoTime(new Date(now.getTime() - INVITATION_WINDOW_MS));
    const recorded = await ctx.db.transaction().execute(async (trx) => {
      // First, so that a second upload of this newsroom waits here until this one is done.
      const perDay = (await lockInvitationBudget(trx, newsroom.id)) ?? ctx.config.invitationsPerDay;
      let left = perDay - (await invitationsSince(trx, newsroom.id, since)).count;
      const existing = await subscribersByEmailKeys(trx, newsroom.id, chunk.map((entry) => entry.key));
      const asked = await addressesAskedSince(trx, chunk.map((entry) => ({ emailKey: entry.key, hash: entry.hash })), since);
      const chosen: typeof chunk = [];
      for (const entry of chunk) {
        const status = existing.get(entry.key)?.status;
        if (status === 'confirmed') counts.alreadySubscribed += 1;
        else if (status === 'unsubscribed') counts.suppressed += 1;
        else if (asked.has(entry.key)) counts.recentlyAsked += 1;
        else if (left > 0) {
          chosen.push(entry);
          left -= 1;
        } else counts.overBudget.push(entry.line);
      }
      const ids: string[] = [];
      // In the order of their hashes: two newsrooms inviting the same addresses at once
      // take their slots in the same order, so neither can wait for the other in a circle.
      for (const entry of [...chosen].sort((a, b) => (a.hash < b.hash ? -1 : 1))) {
        const wishes = { languages: entry.languages, keywords: entry.keywords };
        // Either can be lost to a request of a moment ago: another newsroom's invitation, a form's.
        if (!(await takeInvitationSlot(trx, { addressHash: entry.hash, newsroomId: newsroom.id, now: isoTime(now), notBefore: since }))) {
          counts.recentlyAsked += 1;
          continue;
        }
        const subscriber = await ensureSubscriber(trx, newsroom.id, entry.email, wishes, isoTime(now));
        const id = await askToConfirm(trx, subscriber, wishes, { ipHash: ip, source: 'invitation' }, now);
        if (id) ids.push(id);
        else counts.recentlyAsked += 1; // its window stays taken: it was asked a moment ago all the same
      }
      return ids;
    });
    // Queued once committed; whatever Redis misses, the sweep finds in the database.
    await queueConfirmationEmails(ctx.subscriptionMail, recorded);
    counts.invited += recorded.length;
  }
  return { ...counts, budget: await getInvitationBudget(ctx, newsroom), rejected };
}

export type ConfirmationState = 'valid' | 'used' | 'expired' | 'unknown';

export interface ConfirmationView {
  state: ConfirmationState;
  lang?: string;
  subscriber?: Subscriber;
  newsroom?: Newsroom;
}

/** What a confirmation link stands for, without changing anything (a GET). */
export async function viewConfirmation(ctx: AppContext, token: string): Promise<ConfirmationView> {
  const row = await findConfirmationByToken(ctx.db, hashConfirmationToken(token));
  const subscriber = row && (await findSubscriber(ctx.db, row.subscriber_id));
  const newsroom = subscriber && (await findNewsroomById(ctx.db, subscriber.newsroomId));
  if (!row || !subscriber || !newsroom) return { state: 'unknown' };
  const state: ConfirmationState = row.used_at
    ? 'used'
    : !row.expires_at || row.expires_at <= isoTime(ctx.clock.now())
      ? 'expired'
      : 'valid';
  return { state, lang: row.lang, subscriber, newsroom };
}

/**
 * Confirms the subscription a link stands for, once: the token is spent, the wishes of
 * the request applied, and the consent recorded as shown on the page in its language.
 */
export async function confirmSubscription(
  ctx: AppContext,
  token: string,
  requester: { ip: string | null; userAgent: string | null },
): Promise<ConfirmationView> {
  const view = await viewConfirmation(ctx, token);
  if (view.state !== 'valid') return view;
  const { subscriber, newsroom, lang } = view as Required<ConfirmationView>;
  const now = isoTime(ctx.clock.now());
  const won = await ctx.db.transaction().execute(async (trx) => {
    const row = (await findConfirmationByToken(trx, hashConfirmationToken(token)))!;
    if (!(await useConfirmation(trx, row.id, now))) return false;
    await confirmSubscriber(
      trx,
      subscriber.id,
      { languages: JSON.parse(row.languages), keywords: JSON.parse(row.keywords) },
      { at: now, ip: requester.ip, userAgent: requester.userAgent?.slice(0, 1000) ?? null, text: consentWording(newsroom, lang), source: row.source },
    );
    return true;
  });
  if (!won) return { ...view, state: 'used' };
  return { ...view, subscriber: (await findSubscriber(ctx.db, subscriber.id))! };
}

/** The subscriber a signed preferences/unsubscribe link names, with its newsroom. */
export async function subscriberBySignedToken(ctx: AppContext, token: string): Promise<{ subscriber: Subscriber; newsroom: Newsroom } | undefined> {
  const id = verifySubscriberToken(ctx.config.signingSecret, token);
  const subscriber = id === undefined ? undefined : await findSubscriber(ctx.db, id);
  const newsroom = subscriber && (await findNewsroomById(ctx.db, subscriber.newsroomId));
  return subscriber && newsroom ? { subscriber, newsroom } : undefined;
}

/** New languages and keywords from the preferences page; returns the field errors, if any. */
export async function changePreferences(
  ctx: AppContext,
  newsroom: Newsroom,
  subscriber: Subscriber,
  wishes: { languages: string[]; keywords: string[] },
): Promise<FieldError[]> {
  const { languages, errors } = checkLanguages(newsroom, wishes.languages);
  if (wishes.languages.length === 0) errors.push({ path: 'languages', message: 'choose at least one language', code: 'languages_required' });
  if (errors.length) return errors;
  await ctx.db.transaction().execute((trx) =>
    updatePreferences(trx, subscriber.id, { languages, keywords: distinctKeywords(wishes.keywords) }, isoTime(ctx.clock.now())),
  );
  return [];
}

/** At once, whatever the status; it stays so until a new double opt-in is confirmed. */
export async function unsubscribe(ctx: AppContext, subscriber: Subscriber): Promise<void> {
  await markUnsubscribed(ctx.db, subscriber.id, isoTime(ctx.clock.now()));
}

/**
 * Moves an existing list in, in one transaction. New addresses and pending ones become
 * confirmed with the import's consent; confirmed ones take the new languages and
 * keywords; unsubscribed ones stay so (rejected). Bad entries are rejected one by one.
 */
export async function importSubscribers(ctx: AppContext, newsroom: Newsroom, input: ImportInput) {
  const rejected: { index: number; reason: string }[] = [];
  const entries = new Map<string, { index: number; email: string; languages: string[]; keywords: string[] }>();
  input.subscribers.forEach((item, index) => {
    const parsed = importedSubscriber.safeParse(item);
    if (!parsed.success) {
      const reason = parsed.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
      rejected.push({ index, reason });
      return;
    }
    const { languages, errors } = checkLanguages(newsroom, parsed.data.languages);
    const key = emailKey(parsed.data.email);
    if (errors.length) rejected.push({ index, reason: errors.map((e) => `${e.path}: ${e.message}`).join('; ') });
    else if (entries.has(key)) rejected.push({ index, reason: `the same address as entry ${entries.get(key)!.index}` });
    else entries.set(key, { index, email: parsed.data.email, languages, keywords: distinctKeywords(parsed.data.keywords) });
  });

  const now = isoTime(ctx.clock.now());
  const consent: Consent = { at: isoTime(input.consent.collectedAt), ip: null, userAgent: null, text: null, source: input.consent.source };
  const counts = await ctx.db.transaction().execute(async (trx) => {
    const existing = await subscribersByEmailKeys(trx, newsroom.id, [...entries.keys()]);
    const fresh = [...entries].filter(([key]) => !existing.has(key)).map(([, entry]) => entry);
    await insertConfirmedSubscribers(trx, newsroom.id, fresh, consent, now);
    const changed: { id: string; keywords: string[] }[] = [];
    for (const [key, subscriber] of existing) {
      const entry = entries.get(key)!;
      if (subscriber.status === 'unsubscribed') {
        rejected.push({ index: entry.index, reason: 'unsubscribed from this newsroom: stays unsubscribed' });
        continue;
      }
      const wishes = { languages: entry.languages, keywords: entry.keywords };
      // Pending addresses never agreed through the form: the import's consent is theirs now.
      await trx
        .updateTable('subscribers')
        .set({
          languages: JSON.stringify(wishes.languages),
          keywords: JSON.stringify(wishes.keywords),
          updated_at: now,
          ...(subscriber.status === 'pending'
            ? { status: 'confirmed', confirmed_at: now, consent_at: consent.at, consent_source: consent.source, consent_ip: null, consent_user_agent: null, consent_text: null }
            : {}),
        })
        .where('id', '=', subscriber.id)
        .execute();
      changed.push({ id: subscriber.id, keywords: entry.keywords });
    }
    const keywordsById = new Map(changed.map((c) => [c.id, c.keywords]));
    await replaceKeywords(trx, [...keywordsById.keys()], (id) => keywordsById.get(id)!);
    return { imported: fresh.length, updated: changed.length };
  });
  rejected.sort((a, b) => a.index - b.index);
  return { ...counts, rejected };
}

/** A subscriber of this newsroom (404 for one of another newsroom: ids do not leak across). */
export async function getSubscriberOf(ctx: AppContext, newsroom: Newsroom, id: string): Promise<Subscriber> {
  const subscriber = await findSubscriber(ctx.db, id);
  if (!subscriber || subscriber.newsroomId !== newsroom.id) throw notFound('Subscriber');
  return subscriber;
}

const EXPORT_PAGE = 1000;

/** The newsroom's subscribers for the CSV export, a page at a time (keyset), so that a large list is never held whole. */
export async function* exportSubscribers(ctx: AppContext, newsroom: Newsroom): AsyncGenerator<Subscriber[]> {
  for (let after = ''; ; ) {
    const page = await subscribersAfter(ctx.db, newsroom.id, after, EXPORT_PAGE);
    if (page.length) yield page;
    if (page.length < EXPORT_PAGE) return;
    after = page[page.length - 1]!.id;
  }
}

export async function deleteSubscriber(ctx: AppContext, subscriber: Subscriber): Promise<void> {
  await deleteSubscribers(ctx.db, [subscriber.id]);
}

/**
 * Everything held about one address, in every newsroom (a data subject's access
 * request): its subscriptions and its entries as an accredited journalist.
 */
export async function dataHeldAbout(ctx: AppContext, email: string) {
  const subscribers = await findSubscribersByEmail(ctx.db, email);
  const ids = subscribers.map((s) => s.id);
  const [confirmations, deliveries, newsrooms, journalists] = await Promise.all([
    confirmationsOf(ctx.db, ids),
    deliveriesOf(ctx.db, ids),
    Promise.all(subscribers.map((s) => findNewsroomById(ctx.db, s.newsroomId))),
    journalistDataHeldAbout(ctx, email),
  ]);
  const subscriptions = subscribers.map((subscriber, i) => ({
    subscriber,
    newsroomSlug: newsrooms[i]?.slug ?? '',
    confirmations: confirmations.filter((c) => c.subscriber_id === subscriber.id),
    deliveries: deliveries.filter((d) => d.subscriber_id === subscriber.id),
  }));
  return { subscriptions, journalists };
}

/**
 * Erases an address from every newsroom (a data subject's erasure request): its
 * subscriber rows, and with them their keywords and confirmation requests, and its
 * entries as an accredited journalist. Delivery rows keep only the recipient's id (and,
 * in delivery's table, a hash of the address).
 */
export async function eraseAddress(ctx: AppContext, email: string): Promise<{ erased: number; erasedJournalists: number }> {
  const subscribers = await findSubscribersByEmail(ctx.db, email);
  const erased = await deleteSubscribers(ctx.db, subscribers.map((s) => s.id));
  return { erased, erasedJournalists: await eraseJournalistAddress(ctx, email) };
}
