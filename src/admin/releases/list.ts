import type { Router } from 'express';
import { deliveryCounts } from '../../delivery/counts.js';
import { t } from '../../lib/i18n.js';
import { templateBeside } from '../../lib/templates.js';
import { listReleasesForStaff } from '../../releases/operations.js';
import { effectivePublishedAt, effectiveStatus, releaseStatuses, type ReleaseStatus } from '../../releases/visibility.js';
import type { StaffPages } from '../staff.js';
import { langOf } from '../views.js';

/* The working newsroom's releases: filtered by status, searched, a page at a time. */

const view = templateBeside(import.meta.url, 'list.hbs');
const PAGE_SIZE = 50;

export function releaseListPage(router: Router, { ctx, show, staff, workingNewsroom }: StaffPages): void {
  router.get('/releases', staff(async (req, res, session) => {
    const newsroom = await workingNewsroom(res, session);
    if (!newsroom) return;
    const lang = langOf(res);
    const status = (releaseStatuses as readonly string[]).includes(String(req.query.status)) ? (req.query.status as ReleaseStatus) : undefined;
    const search = typeof req.query.q === 'string' ? req.query.q.trim().slice(0, 200) : '';
    const page = Math.max(0, Math.min(10_000, Number.parseInt(String(req.query.page ?? '0'), 10) || 0));
    const releases = await listReleasesForStaff(ctx, newsroom, { status, search: search || undefined, limit: PAGE_SIZE + 1, offset: page * PAGE_SIZE });
    const at = ctx.clock.now();
    const rows = await Promise.all(
      releases.slice(0, PAGE_SIZE).map(async (r) => {
        const state = effectiveStatus(r, at);
        const first = r.translations.find((tr) => tr.lang === lang) ?? r.translations[0];
        return {
          id: r.id,
          title: first?.title ?? '',
          titleLang: first?.lang,
          languages: r.translations.map((tr) => tr.lang).join(', '),
          status: state,
          statusLabel: t(lang, `admin.status.${state}`),
          time: effectivePublishedAt(r, at) ?? r.publishAt,
          updatedAt: r.updatedAt,
          deliveries: state === 'published' || state === 'withdrawn' ? await deliveryCounts(ctx, r.id) : undefined,
        };
      }),
    );
    const query = (p: number) => `?${new URLSearchParams({ ...(status ? { status } : {}), ...(search ? { q: search } : {}), page: String(p) })}`;
    await show(req, res, view, t(lang, 'admin.releases.title'), {
      timezone: newsroom.timezone,
      releases: rows,
      search,
      statuses: releaseStatuses.map((s) => ({ value: s, label: t(lang, `admin.status.${s}`), selected: s === status })),
      previousPage: page > 0 ? query(page - 1) : undefined,
      nextPage: releases.length > PAGE_SIZE ? query(page + 1) : undefined,
    });
  }));
}
