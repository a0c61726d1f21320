import type { AdvanceLinkRow } from '../lib/db/schema.js';
import type { AdvanceAccess, listAdvanceUpdates, listOpenings } from './repository.js';

export const linkStatus = (link: AdvanceLinkRow) =>
  link.revoked_at ? 'revoked' : link.failed_at ? 'failed' : link.sent_at ? 'sent' : 'pending';

export function presentLink(link: AdvanceLinkRow) {
  return {
    id: link.id,
    journalist: { id: link.journalist_id, name: link.name, outlet: link.outlet },
    status: linkStatus(link),
    language: link.sent_at ? link.lang : null,
    sentAt: link.sent_at,
    revokedAt: link.revoked_at,
    failure: link.failure,
  } as const;
}

export function presentAdvanceAccess(
  base: string,
  access: AdvanceAccess,
  links: readonly AdvanceLinkRow[],
  updates: Awaited<ReturnType<typeof listAdvanceUpdates>>,
) {
  return {
    release: access.releaseId,
    opensAt: access.opensAt,
    audience: access.audience,
    revokedAt: access.revokedAt,
    links: links.map(presentLink),
    updates,
    log: `${base}/api/releases/${encodeURIComponent(access.releaseId)}/advance-access/log`,
  };
}

export function presentOpening(row: Awaited<ReturnType<typeof listOpenings>>[number]) {
  return {
    id: row.id,
    linkId: row.link_id,
    journalist: { id: row.journalist_id, name: row.name, outlet: row.outlet },
    openedAt: row.opened_at,
    language: row.lang,
    file: row.attachment_id ? { attachmentId: row.attachment_id, filename: row.filename ?? '' } : null,
    addressHash: row.ip_hash,
    userAgent: row.user_agent,
  };
}
