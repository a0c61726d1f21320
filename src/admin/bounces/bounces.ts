import type { Router } from 'express';
import type { BounceListItem, KeptBounce } from '../../bounces/repository.js';
import { listKeptBounces } from '../../bounces/repository.js';
import { t } from '../../lib/i18n.js';
import { templateBeside } from '../../lib/templates.js';
import type { StaffPages } from '../staff.js';
import { langOf } from '../views.js';

/*
 * What came back after the relay accepted, for staff: the rows of the bounce list
 * (partials/bounce-list.hbs, in the delivery report and a subscriber's history), and
 * the service admin's page of what names no delivery or could not be classified (it
 * belongs to no newsroom). A returned message is hostile: shown as escaped text in a
 * <pre>, never rendered.
 */

const view = templateBeside(import.meta.url, 'bounces.hbs');
const PAGE_SIZE = 20;

/** Bounces as the bounce list shows them. */
export const bounceItems = (lang: string, items: (BounceListItem | KeptBounce)[]) =>
  items.map((item) => ({ ...item, outcomeLabel: t(lang, `admin.bounces.outcome.${item.outcome}`) }));

export function bouncePages(router: Router, { ctx, show, staff, adminOnly }: StaffPages): void {
  router.get('/bounces', staff(async (req, res, session) => {
    adminOnly(session);
    const lang = langOf(res);
    const page = Math.max(0, Math.min(10_000, Number.parseInt(String(req.query.page ?? '0'), 10) || 0));
    const kept = await listKeptBounces(ctx.db, { limit: PAGE_SIZE, offset: page * PAGE_SIZE });
    await show(req, res, view, t(lang, 'admin.bounces.title'), {
      timezone: 'UTC',
      kept: bounceItems(lang, kept.items),
      showing: kept.items.length ? { from: page * PAGE_SIZE + 1, to: page * PAGE_SIZE + kept.items.length, total: kept.total } : undefined,
      previousPage: page > 0 ? `?page=${page - 1}` : undefined,
      nextPage: (page + 1) * PAGE_SIZE < kept.total ? `?page=${page + 1}` : undefined,
    });
  }));
}
