import { randomUUID } from 'node:crypto';
import type { AppContext } from '../context.js';
import { formatDateTime, t } from '../lib/i18n.js';
import { failureReply, isPermanentFailure } from '../lib/mailer.js';
import { template } from '../lib/templates.js';
import { isoTime } from '../lib/time.js';
import { findNewsroomById, type Newsroom } from '../newsrooms/repository.js';
import { findJournalist, listJournalists } from '../journalists/repository.js';
import { findRelease, type Release } from '../releases/repository.js';
import { effectiveStatus } from '../releases/visibility.js';
import { advanceLinkUrl, newLinkToken } from './links.js';
import {
  addLinks,
  claimLink,
  findAdvanceAccess,
  listLinks,
  markLinkFailed,
  markLinkSent,
  releaseLinkClaim,
  unsentLinks,
} from './repository.js';

/** A claim this old belongs to a worker that died before sending. */
const CLAIM_STALE_MS = 5 * 60_000;

/** "EMBARGOED UNTIL <time in the newsroom's zone> (<zone>) · <time in UTC> UTC", in `lang`. */
export function embargoTexts(lang: string, publishAt: string, timezone: string) {
  return {
    local: formatDateTime(lang, publishAt, timezone),
    zone: timezone,
    utc: formatDateTime(lang, publishAt, 'UTC'),
  };
}

/** The language of a journalist's email and page: the first of theirs the release has, else the release's first. */
export const linkLanguage = (release: Release, languages: readonly string[]) =>
  languages.find((l) => release.translations.some((x) => x.lang === l)) ?? release.translations[0]!.lang;

export async function renderAdvanceEmail(ctx: AppContext, release: Release, newsroom: Newsroom, lang: string, url: string) {
  const tr = release.translations.find((x) => x.lang === lang)!;
  const newsroomName = newsroom.name[lang] ?? newsroom.name[newsroom.languages[0]!] ?? newsroom.slug;
  const times = embargoTexts(lang, release.publishAt!, newsroom.timezone);
  const data = { lang, newsroomName, embargo: t(lang, 'email.advance.embargo', times), title: tr.title, lead: tr.lead, url };
  const { default: mjml2html } = await import('mjml');
  const { html, errors } = await mjml2html(template('email/advance.mjml.hbs')(data), { validationLevel: 'soft' });
  if (errors?.length) ctx.logger.warn({ releaseId: release.id, errors: errors.map((e) => e.formattedMessage) }, 'advance email: MJML warnings');
  return {
    newsroomName,
    subject: t(lang, 'email.advance.subject', { until: `${times.local} (${times.zone})`, title: tr.title }),
    html,
    text: template('email/advance.txt.hbs')(data),
  };
}

/**
 * Sends the personal links of a release whose advance access is open, if the release is
 * still under embargo: makes the links of journalists accredited since (audience `all`),
 * then sends each link not yet sent that this worker wins the claim of. Idempotent: the
 * delayed job, the sweep and a retry may all run it.
 */
export async function sendAdvanceLinks(ctx: AppContext, releaseId: string): Promise<number> {
  const now = ctx.clock.now();
  const [release, access] = await Promise.all([findRelease(ctx.db, releaseId), findAdvanceAccess(ctx.db, releaseId)]);
  if (!release || !access || access.revokedAt || Date.parse(access.opensAt) > now.getTime()) return 0;
  if (effectiveStatus(release, now) !== 'scheduled') return 0;
  const newsroom = await findNewsroomById(ctx.db, release.newsroomId);
  if (!newsroom) return 0;
  if (access.audience === 'all') {
    // Journalists accredited since: only they get a new link (the sweep comes here every few seconds; no write when there is none).
    const holders = new Set((await listLinks(ctx.db, release.id)).map((l) => l.journalist_id));
    const newcomers = (await listJournalists(ctx.db, newsroom.id, 'active')).filter((j) => !holders.has(j.id));
    await addLinks(ctx.db, release.id, newcomers, randomUUID, isoTime(now));
  }
  let sent = 0;
  for (const link of await unsentLinks(ctx.db, release.id)) {
    const journalist = await findJournalist(ctx.db, link.journalist_id);
    if (!journalist || journalist.status !== 'active') continue;
    const lang = linkLanguage(release, journalist.languages);
    const { token, hash } = newLinkToken();
    const at = ctx.clock.now().getTime();
    const claimed = await claimLink(ctx.db, link.id, {
      tokenHash: hash,
      lang,
      now: isoTime(new Date(at)),
      staleBefore: isoTime(new Date(at - CLAIM_STALE_MS)),
    });
    if (!claimed) continue;
    try {
      const email = await renderAdvanceEmail(ctx, release, newsroom, lang, advanceLinkUrl(ctx.config.publicUrl, token));
      await ctx.mailer.send({
        from: { name: email.newsroomName, address: ctx.config.mailFrom },
        to: journalist.email,
        subject: email.subject,
        html: email.html,
        text: email.text,
        messageId: `<${link.id}.advance@${new URL(ctx.config.publicUrl).hostname}>`,
        headers: { 'Auto-Submitted': 'auto-generated', 'Content-Language': lang },
      });
    } catch (err) {
      if (isPermanentFailure(err)) {
        await markLinkFailed(ctx.db, link.id, isoTime(ctx.clock.now()), failureReply(err));
        ctx.logger.warn({ releaseId, linkId: link.id }, 'advance link email refused for good');
      } else {
        // The sweep tries again, with a new token.
        await releaseLinkClaim(ctx.db, link.id);
        ctx.logger.warn({ err: failureReply(err), releaseId, linkId: link.id }, 'advance link email failed; will retry');
      }
      continue;
    }
    await markLinkSent(ctx.db, link.id, isoTime(ctx.clock.now()));
    sent++;
  }
  if (sent) ctx.logger.info({ releaseId, sent }, 'advance links sent');
  return sent;
}
