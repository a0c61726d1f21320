import type { Generated, Selectable } from 'kysely';

/*
 * Table types for Kysely. Times are ISO 8601 UTC strings everywhere in the code:
 * text in SQLite (which compares them correctly as text) and timestamptz in
 * PostgreSQL, parsed back to ISO strings by the driver (see database.ts).
 * JSON values are stored as text so that both databases hold the same thing.
 */
export interface NewsroomTable {
  id: string;
  slug: string;
  languages: string; // JSON array, first is the default
  timezone: string;
  website: string | null;
  social: string; // JSON object
  logo_sha256: string | null; // the blob of the logo (a PNG), if any
  logo_width: number | null;
  logo_height: number | null;
  /** 0021: the brand colour, `#rrggbb` in lower case, or null for the site's own. */
  brand_color: string | null;
  created_at: string;
  updated_at: string;
}

export interface NewsroomTranslationTable {
  newsroom_id: string;
  lang: string;
  name: string;
  boilerplate: string;
  boilerplate_html: string;
}

export interface ApiTokenTable {
  id: string;
  newsroom_id: string;
  name: string;
  secret_hash: string; // hex SHA-256 of the secret part
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface ContactTable {
  id: string;
  newsroom_id: string;
  name: string;
  title: string; // JSON { lang: title }
  phone: string | null;
  email: string | null;
  created_at: string;
  updated_at: string;
}

export interface ReleaseTable {
  id: string;
  newsroom_id: string;
  type: string;
  status: string; // stored status; see releases/visibility.ts for the effective one
  publish_at: string | null;
  published_at: string | null;
  withdrawn_at: string | null;
  /** When "this release became public" was claimed (delivery starts once, there). */
  announced_at: string | null;
  version: Generated<number>;
  /** 0017: the version of the public content (1 at publication, +1 per edit while public); ninjs gives it. */
  revision: Generated<number>;
  /** 0017: an invitation's event (all null for none): start, optional end, place, online link. */
  event_starts_at: string | null;
  event_ends_at: string | null;
  event_place: string | null;
  event_online_url: string | null;
  created_at: string;
  updated_at: string;
}

export interface ReleaseTranslationTable {
  release_id: string;
  lang: string;
  position: number;
  title: string;
  lead: string;
  body: string; // Markdown as written
  body_html: string; // sanitised HTML, rendered once on write
}

export interface ReleaseKeywordTable {
  release_id: string;
  lang: string;
  position: number;
  keyword: string;
  keyword_key: string; // lower-cased, for matching
}

export interface ReleaseContactTable {
  release_id: string;
  contact_id: string;
  position: number;
}

export interface AttachmentTable {
  id: string;
  release_id: string;
  filename: string;
  content_type: string;
  size: number;
  sha256: string;
  width: number | null;
  height: number | null;
  rendition: string | null; // content type of the web-size rendition, when there is one
  caption: string; // JSON { lang: caption }
  credit: string | null;
  position: number;
  created_at: string;
}

/** Search text per release and language (see migration 0005_search for the index). */
export interface ReleaseSearchTable {
  release_id: string;
  lang: string;
  title: string;
  lead: string;
  body: string; // plain text of the body
  keywords: string; // the language's keywords, space-separated
}

/** A blob in the file store that this database keeps (see attachments/blobs.ts). */
/** Every logo a newsroom has had (its current one included): their URLs stay valid. */
export interface NewsroomLogoTable {
  newsroom_id: string;
  sha256: string;
  created_at: string;
}

export interface BlobTable {
  sha256: string;
  created_at: string;
  used_at: string;
}

export interface DeliveryTable {
  id: string;
  release_id: string;
  /** The recipient: a subscriber, or an accredited journalist who is not one (0033, src/delivery/journalists.ts). */
  subscriber_id: string;
  status: string; // queued | sending | sent | failed | skipped | bounced | complained (see src/delivery/README.md)
  language: string | null;
  email_hash: string | null; // hex SHA-256 of the lower-cased address
  claimed_at: string | null;
  claimed_by: string | null;
  attempts: Generated<number>;
  sent_at: string | null;
  smtp_response: string | null;
  message_id: string | null;
  error: string | null;
  created_at: string;
  updated_at: string;
  bounced_at: string | null; // 0027: a bounce or complaint came back after the relay accepted
  bounce_reason: string | null; // 0027
}

/** 0027: a returned message or provider event (src/bounces/). */
export interface BounceTable {
  id: string;
  received_at: string;
  source: string; // smtp | mailgun | postmark | sendgrid
  outcome: string; // permanent | transient | complaint | unmatched | unclassified
  delivery_id: string | null;
  subscriber_id: string | null;
  status: string | null;
  reason: string | null;
  subject: string | null;
  sender: string | null;
  message: string | null;
}

export interface FanoutTable {
  release_id: string;
  claimed_at: string;
  claimed_by: string;
  cursor: string | null;
  done_at: string | null;
}

export interface SubscriberTable {
  id: string;
  newsroom_id: string;
  email: string;
  email_key: string; // lower-cased, for matching
  languages: string; // JSON array
  keywords: string; // JSON array
  status: string; // pending | confirmed | unsubscribed
  consent_at: string | null;
  consent_ip: string | null;
  consent_user_agent: string | null;
  consent_text: string | null;
  consent_source: string | null;
  created_at: string;
  updated_at: string;
  confirmed_at: string | null;
  unsubscribed_at: string | null;
  hard_bounces: Generated<number>;
  confirmation_requested_at: string | null; // 0006: the per-address rate limit of confirmation emails
}

/** How a confirmation request came about: the public form, or a staff invitation. */
export type ConfirmationSource = 'form' | 'invitation';

export interface SubscriptionConfirmationTable {
  id: string;
  subscriber_id: string;
  lang: string;
  languages: string; // JSON array
  keywords: string; // JSON array
  ip_hash: string;
  source: Generated<ConfirmationSource>; // how the request came about, recorded as the consent's source
  token_hash: string | null; // hex SHA-256
  created_at: string;
  claimed_at: string | null;
  sent_at: string | null;
  expires_at: string | null;
  used_at: string | null;
  failed_at: string | null;
  failure: string | null;
}

/** 0011: the last staff invitation of each address (a keyed hash of it), for the window and the budgets. */
export interface InvitedAddressTable {
  address_hash: string;
  newsroom_id: string;
  asked_at: string;
}

/** 0011: a newsroom's own invitations a day (null: INVITATIONS_PER_DAY); its row is the lock of an upload. */
export interface InvitationBudgetTable {
  newsroom_id: string;
  per_day: number | null;
}

export interface SubscriberKeywordTable {
  subscriber_id: string;
  keyword_key: string;
}

export interface AdminSessionTable {
  id_hash: string; // hex SHA-256 of the session id in the cookie
  token_id: string | null; // the newsroom token signed in with; null for the admin
  admin_key: string | null; // for the admin: keyed hash of the admin token signed in with
  newsroom_id: string | null; // the newsroom the session works in
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  flash: string | null; // a form post's result for the page it redirects to, sealed (admin/session.ts)
}

/** 0018: one failed staff sign-in, by a keyed hash of the client's address. */
export interface SignInFailureTable {
  address_hash: string;
  failed_at: string;
}

/** 0025: an accredited journalist of a newsroom. */
export interface JournalistTable {
  id: string;
  newsroom_id: string;
  name: string;
  outlet: string;
  email: string;
  email_key: string; // lower-cased, for matching
  languages: string; // JSON array, in the journalist's order
  note: string;
  status: string; // active | suspended
  created_at: string;
  updated_at: string;
  unsubscribed_at: string | null; // 0033: stopped the release emails by their unsubscribe link (still accredited)
}

/** 0026: advance access to a scheduled release (see journalists/advance.ts). */
export interface AdvanceAccessTable {
  release_id: string;
  opens_at: string;
  audience: string; // all | chosen
  created_at: string;
  updated_at: string;
  revoked_at: string | null;
}

/** 0026: one journalist's personal link to one release. */
export interface AdvanceLinkTable {
  id: string;
  release_id: string;
  journalist_id: string;
  name: string; // copied: the log says who had it after the journalist is removed
  outlet: string;
  lang: string | null; // the email's language, set when sent
  token_hash: string | null; // hex SHA-256 of the token, set when its email is sent
  created_at: string;
  claimed_at: string | null;
  sent_at: string | null;
  failed_at: string | null;
  failure: string | null;
  revoked_at: string | null;
}

/** 0026: one opening of an advance link or one of its files (the access log). */
export interface AdvanceOpeningTable {
  id: string;
  link_id: string;
  release_id: string;
  opened_at: string;
  lang: string;
  attachment_id: string | null;
  filename: string | null;
  ip_hash: string; // hex SHA-256 of req.ip
  user_agent: string;
}

/** 0034: an edit of a scheduled release the journalists with live links are told of. */
export interface AdvanceUpdateTable {
  id: string;
  release_id: string;
  fields: string; // JSON array, as release_corrections.fields
  created_at: string;
}

/** 0034: one journalist (by their link) to tell of an advance update. */
export interface AdvanceUpdateEmailTable {
  update_id: string;
  link_id: string;
  status: string; // queued | sending | sent | failed | skipped
  claimed_at: string | null;
  sent_at: string | null;
  failure: string | null;
}

/** 0029: a change to a release after publication: an edit (correction or minor) or its withdrawal. */
export interface ReleaseCorrectionTable {
  id: string;
  release_id: string;
  kind: string; // correction | minor | withdrawal
  revision: number; // the release's revision after the change
  fields: Generated<string>; // JSON array of the fields an edit changed
  note: Generated<string>; // JSON { lang: text }: a correction's note, a withdrawal's reason
  created_at: string;
  notice_claimed_at: string | null; // when staff had those who got the release notified (once)
}

/** 0030: a correction (or withdrawal) notice to one recipient of the release, by its delivery. */
export interface CorrectionNoticeTable {
  correction_id: string;
  delivery_id: string;
  release_id: string;
  subscriber_id: string;
  language: string;
  status: string; // queued | sending | sent | failed | skipped, as deliveries
  attempts: Generated<number>;
  claimed_at: string | null;
  claimed_by: string | null;
  sent_at: string | null;
  smtp_response: string | null;
  message_id: string | null;
  created_at: string;
  updated_at: string;
}

/** One row per delivery worker process, renewed while it runs (src/delivery/liveness.ts). */
export interface WorkerLivenessTable {
  owner: string; // processOwner (src/delivery/policy.ts), as in claimed_by
  started_at: string;
  renewed_at: string;
}

/** The outbox of what aggregators are told: see src/publication/events.ts. */
export interface ReleaseEventTable {
  id: string;
  release_id: string;
  kind: 'published' | 'corrected' | 'withdrawn';
  created_at: string;
  dispatched_at: string | null;
}

export interface WebsubIntentTable {
  id: string;
  mode: 'subscribe' | 'unsubscribe';
  topic: string;
  callback: string;
  lease_seconds: number;
  secret: string | null;
  created_at: string;
}

export interface WebsubSubscriptionTable {
  id: string;
  topic: string;
  callback: string;
  newsroom_id: string | null;
  lang: string | null;
  keyword: string | null;
  secret: string | null;
  lease_seconds: number;
  expires_at: string;
  created_at: string;
  /** Distributions that failed for good since the last one that arrived. */
  failures: Generated<number>;
}

export interface Database {
  newsrooms: NewsroomTable;
  newsroom_translations: NewsroomTranslationTable;
  api_tokens: ApiTokenTable;
  contacts: ContactTable;
  releases: ReleaseTable;
  release_translations: ReleaseTranslationTable;
  release_keywords: ReleaseKeywordTable;
  release_contacts: ReleaseContactTable;
  attachments: AttachmentTable;
  release_search: ReleaseSearchTable;
  blobs: BlobTable;
  newsroom_logos: NewsroomLogoTable;
  deliveries: DeliveryTable;
  bounces: BounceTable;
  fanouts: FanoutTable;
  subscribers: SubscriberTable;
  subscriber_keywords: SubscriberKeywordTable;
  subscription_confirmations: SubscriptionConfirmationTable;
  invited_addresses: InvitedAddressTable;
  invitation_budgets: InvitationBudgetTable;
  admin_sessions: AdminSessionTable;
  sign_in_failures: SignInFailureTable;
  journalists: JournalistTable;
  advance_access: AdvanceAccessTable;
  advance_links: AdvanceLinkTable;
  advance_openings: AdvanceOpeningTable;
  advance_updates: AdvanceUpdateTable;
  advance_update_emails: AdvanceUpdateEmailTable;
  release_corrections: ReleaseCorrectionTable;
  correction_notices: CorrectionNoticeTable;
  worker_liveness: WorkerLivenessTable;
  release_events: ReleaseEventTable;
  websub_intents: WebsubIntentTable;
  websub_subscriptions: WebsubSubscriptionTable;
}

export type NewsroomRow = Selectable<NewsroomTable>;
export type ContactRow = Selectable<ContactTable>;
export type ReleaseRow = Selectable<ReleaseTable>;
export type AttachmentRow = Selectable<AttachmentTable>;
export type SubscriberRow = Selectable<SubscriberTable>;
export type SubscriptionConfirmationRow = Selectable<SubscriptionConfirmationTable>;
export type JournalistRow = Selectable<JournalistTable>;
export type AdvanceLinkRow = Selectable<AdvanceLinkTable>;
