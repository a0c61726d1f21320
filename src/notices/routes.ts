import { z } from 'zod';
import type { AppContext } from '../context.js';
import { defineRoute, type Principal } from '../lib/routes.js';
import { pathKey } from '../lib/schemas.js';
import { getReleaseForStaff } from '../releases/operations.js';
import { releaseParams } from '../releases/schemas.js';
import { noticeReport, notifyRecipients } from './operations.js';

const noticeParams = z.object({ id: pathKey, correctionId: pathKey });

const noticeCounts = z.object({
  correctionId: z.string(),
  kind: z.enum(['correction', 'minor', 'withdrawal']),
  requestedAt: z.string(),
  total: z.number().int(),
  queued: z.number().int(),
  sent: z.number().int(),
  failed: z.number().int(),
  skipped: z.number().int(),
});

export function noticeRoutes(ctx: AppContext) {
  const loadRelease = ({ params, principal }: { params: { id: string }; principal: Principal }) => getReleaseForStaff(ctx, params.id, principal);
  return [
    defineRoute({
      method: 'post',
      path: '/api/releases/:id/corrections/:correctionId/notify',
      tag: 'Releases',
      summary:
        'Tell those who received the release (its deliveries sent) of a correction or its withdrawal, by email in their delivery language ' +
        '(subject "Correction:" / "Withdrawn:" and the title, the note or reason, a link). Once per correction (409 after); never to later subscribers.',
      access: 'token',
      params: noticeParams,
      responses: {
        202: { description: 'The notices are queued', schema: z.object({ correctionId: z.string(), recipients: z.number().int() }) },
      },
      errors: [409],
      load: loadRelease,
      handle: async ({ params, loaded }) => ({ status: 202, body: await notifyRecipients(ctx, loaded, params.correctionId) }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/releases/:id/notices',
      tag: 'Releases',
      summary: 'The correction and withdrawal notices of a release: per notified change, the counts by state',
      access: 'token',
      params: releaseParams,
      responses: { 200: { description: 'Notices per change', schema: z.array(noticeCounts) } },
      load: loadRelease,
      handle: async ({ loaded }) => ({ status: 200, body: await noticeReport(ctx, loaded.id) }),
    }),
  ];
}
