import { randomUUID } from 'node:crypto';
import type { AppContext } from '../context.js';
import type { Db } from '../lib/db/database.js';
import { t } from '../lib/i18n.js';
import { failureReply, isPermanentFailure } from '../lib/mailer.js';
import { template } from '../lib/templates.js';
import { isoTime } from '../lib/time.js';
import { findNewsroomById, type Newsroom } from '../newsrooms/repository.js';
import { findRelease, type Release } from '../releases/repository.js';
import { effectiveStatus } from '../releases/visibility.js';
import { embargoTexts } from './mail.js';
import { claimUpdateEmail, dueAdvanceUpdates, findAdvanceUpdate, insertAdvanceUpdate, pendingUpdateEmails, settleUpdateEmail } from './repository.js';

/*
 * "Updated before publication": staff edit a scheduled release whose personal links went
 * out and choose to tell the journalists holding live ones. The edit records what it
 * changed and one email per live link, in its transaction; the advance worker sends each
 * once (claimed in the database), still headed EMBARGOED UNTIL, and never once the
 * release is public: what is left then is skipped. The email carries no link (only the
 * earlier email's token opens the release): the journalist's link shows the new version.
 */

/** A claim this old belongs to a worker that died before sending. */
const CLAIM_STALE_MS = 5 * 60_000;

/** Records the update in the edit's transaction; undefined when no link is live (nobody to tell). */
export const recordAdvanceUpdate = (db: Db, releaseId: string, fields: string[], now: string) =>
  insertAdvanceUpdate(db, { id: randomUUID(), releaseId, fields, now });

/** What changed, in words of `lang`: "Title (FI)", "Body (SV)", "Keywords (FI)", "Contacts"... */
export function describeFields(lang: string, fields: readonly string[]): string[] {
  const said = fields.map((field) => {
    const [head, code, part] = field.split('.');
    const language = code ? code.toUpperCase() : '';
    if (head === 'translations') return t(lang, `email.advanceUpdate.fields.${part ?? 'translation'}`, { lang: language });
    if (head === 'keywords') return t(lang, 'email.advanceUpdate.fields.keywords', { lang: language });
    return t(lang, `email.advanceUpdate.fields.${head}`);
  });
  return [...new Set(said)];
}

export async function renderUpdateEmail(ctx: AppContext, release: Release, newsroom: Newsroom, lang: string, fields: readonly string[]) {
  const tr = release.translations.find((x) => x.lang === lang) ?? release.translations[0]!;
  const newsroomName = newsroom.name[tr.lang] ?? newsroom.name[newsroom.languages[0]!] ?? newsroom.slug;
  const times = embargoTexts(tr.lang, release.publishAt!, newsroom.timezone);
  const data = { lang: tr.lang, newsroomName, embargo: t(tr.lang, 'email.advance.embargo', times), title: tr.title, changes: describeFields(tr.lang, fields) };
  const { default: mjml2html } = await import('mjml');
  const { html, errors } = await mjml2html(template('email/advance-update.mjml.hbs')(data), { validationLevel: 'soft' });
  if (errors?.length) ctx.logger.warn({ releaseId: release.id, errors: errors.map((e) => e.formattedMessage) }, 'advance update email: MJML warnings');
  return {
    newsroomName,
    subject: t(tr.lang, 'email.advanceUpdate.subject', { until: `${times.local} (${times.zone})`, title: tr.title }),
    html,
    text: template('email/advance-update.txt.hbs')(data),
  };
}

/** Sends the emails of one update still to send; returns how many left. Idempotent: the job and the sweep may both run it. */
export async function sendAdvanceUpdate(ctx: AppContext, updateId: string): Promise<number> {
  const update = await findAdvanceUpdate(ctx.db, updateId);
  if (!update) return 0;
  const release = await findRelease(ctx.db, update.releaseId);
  const newsroom = release && (await findNewsroomById(ctx.db, release.newsroomId));
  const staleBefore = () => isoTime(new Date(ctx.clock.now().getTime() - CLAIM_STALE_MS));
  let sent = 0;
  for (const email of await pendingUpdateEmails(ctx.db, updateId, staleBefore())) {
    const now = isoTime(ctx.clock.now());
    if (!(await claimUpdateEmail(ctx.db, updateId, email.link_id, now, staleBefore()))) continue;
    // Never after publication, never to a dead link.
    const embargoed = release && newsroom && effectiveStatus(release, ctx.clock.now()) === 'scheduled';
    const live = !email.revoked_at && !email.access_revoked_at && email.journalist_status === 'active' && email.email;
    if (!embargoed || !live) {
      await settleUpdateEmail(ctx.db, updateId, email.link_id, { status: 'skipped', at: now });
      continue;
    }
    const lang = email.lang ?? release.translations[0]!.lang;
    try {
      const mail = await renderUpdateEmail(ctx, release, newsroom, lang, update.fields);
      await ctx.mailer.send({
        from: { name: mail.newsroomName, address: ctx.config.mailFrom },
        to: email.email!,
        subject: mail.subject,
        html: mail.html,
        text: mail.text,
        messageId: `<${updateId}.${email.link_id}.advance@${new URL(ctx.config.publicUrl).hostname}>`,
        // The link's own email: the update answers it in the journalist's thread.
        inReplyTo: `<${email.link_id}.advance@${new URL(ctx.config.publicUrl).hostname}>`,
        headers: { 'Auto-Submitted': 'auto-generated', 'Content-Language': lang },
      });
    } catch (err) {
      const failure = failureReply(err);
      // A temporary failure goes back to the queue: the sweep tries again while the embargo lasts.
      const status = isPermanentFailure(err) ? 'failed' : 'queued';
      await settleUpdateEmail(ctx.db, updateId, email.link_id, { status, at: isoTime(ctx.clock.now()), failure });
      ctx.logger.warn({ updateId, linkId: email.link_id, err: failure, status }, 'advance update email not sent');
      continue;
    }
    await settleUpdateEmail(ctx.db, updateId, email.link_id, { status: 'sent', at: isoTime(ctx.clock.now()) });
    sent++;
  }
  if (sent) ctx.logger.info({ updateId, releaseId: update.releaseId, sent }, 'advance update emails sent');
  return sent;
}

/** The sweep's part: every update with emails still to send (Redis may have lost its job). */
export async function sendDueAdvanceUpdates(ctx: AppContext): Promise<number> {
  let sent = 0;
  const staleBefore = isoTime(new Date(ctx.clock.now().getTime() - CLAIM_STALE_MS));
  for (const id of await dueAdvanceUpdates(ctx.db, staleBefore)) sent += await sendAdvanceUpdate(ctx, id);
  return sent;
}
