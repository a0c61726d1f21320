import { createPublicKey, randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import proxyAddr from 'proxy-addr';
import { z } from 'zod';
import { type BucketLocation, parseBucketUrl } from './storage/store.js';

/** Project root: config/, templates/ and the relative default paths hang off it. */
export const projectRoot = fileURLToPath(new URL('../..', import.meta.url));

const defaults: Record<string, string> = JSON.parse(
  readFileSync(path.join(projectRoot, 'config', 'defaults.json'), 'utf8'),
);

const roles = ['all', 'web', 'worker'] as const;
export type Role = (typeof roles)[number];

const mailbox = /^[^\s@<>]+@[^\s@<>]+$/;

/** Variables that may instead be read from a file named by `<NAME>_FILE` (Docker and Kubernetes secrets). */
export const FILE_VARIABLES = [
  'ADMIN_TOKEN',
  'SIGNING_SECRET',
  'SMTP_URL',
  'DKIM_PRIVATE_KEY',
  'MAILGUN_WEBHOOK_SIGNING_KEY',
  'POSTMARK_WEBHOOK_PASSWORD',
  'BOUNCE_IMAP_URL',
] as const;

/** A bearer token goes in a header as it is: URL-safe characters only, long and varied enough to guess. */
const secretToken = (minLength: number) =>
  z
    .string()
    .min(minLength, `must be at least ${minLength} characters`)
    .regex(/^[A-Za-z0-9._~-]+$/, 'may contain only letters, digits and . _ ~ - (no spaces)')
    .refine((s) => new Set(s).size >= 12, 'is too easy to guess: use a random value, e.g. `openssl rand -hex 24`');

/** The most a newsroom may be allowed to invite in 24 hours (INVITATIONS_PER_DAY, or a newsroom's own number). */
export const MAX_INVITATIONS_PER_DAY = 100_000;

/** What Express's `trust proxy` is set to: nothing, a hop count, or addresses, CIDRs and named ranges. */
export type TrustProxy = false | number | string[];

/**
 * TRUST_PROXY: a hop count, or a comma-separated list that Express hands to proxy-addr
 * (`loopback`, `linklocal`, `uniquelocal`, addresses, CIDRs), checked here by that same
 * library so that a typo stops the start instead of trusting nobody (or everybody).
 * `true` is refused: it would take the client's address from whatever the client sends.
 */
const trustProxy = z.string().transform((value, ctx): TrustProxy => {
  const given = value.trim();
  if (/^\d+$/.test(given)) return Number(given) === 0 ? false : Number(given);
  if (/^(true|false)$/i.test(given)) {
    ctx.addIssue({ code: 'custom', message: 'give the proxies (loopback, a hop count such as 1, or addresses/CIDRs), not true or false; leave it unset to trust none' });
    return z.NEVER;
  }
  const entries = given.split(',').map((entry) => entry.trim());
  if (entries.includes('')) {
    ctx.addIssue({ code: 'custom', message: 'has an empty entry between commas' });
    return z.NEVER;
  }
  try {
    proxyAddr.compile(entries);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `${(error as Error).message} (expected loopback, a hop count, or addresses/CIDRs separated by commas)` });
    return z.NEVER;
  }
  return entries;
});

/** Like z.url with a protocol list, but says which schemes are allowed when another one is given. */
const urlWithScheme = (...schemes: string[]) =>
  z.string().superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: `is not a URL (expected ${schemes.map((s) => `${s}://...`).join(' or ')})` });
      return;
    }
    const scheme = url.protocol.slice(0, -1);
    if (!schemes.includes(scheme)) {
      ctx.addIssue({ code: 'custom', message: `has the scheme "${scheme}:"; it must be ${schemes.map((s) => `${s}:`).join(' or ')}` });
    }
  });

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535),
  HEALTH_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  DATABASE_URL: z
    .string()
    .regex(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, 'must be sqlite:PATH or postgres://...'),
  REDIS_URL: urlWithScheme('redis', 'rediss'),
  SMTP_URL: urlWithScheme('smtp', 'smtps').optional(),
  MAIL_FROM: z.string().regex(mailbox, 'must be an email address'),
  ADMIN_TOKEN: secretToken(32).optional(),
  SIGNING_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  STORAGE_DIR: z.string().min(1),
  STORAGE_URL: z.string().superRefine((value, ctx) => {
    try {
      parseBucketUrl(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
    }
  }).optional(),
  // Read by the AWS SDK itself; here only to address a custom endpoint path-style.
  AWS_ENDPOINT_URL_S3: urlWithScheme('http', 'https').optional(),
  AWS_ENDPOINT_URL: urlWithScheme('http', 'https').optional(),
  OUTBOX_DIR: z.string().min(1),
  UPLOAD_MAX_MB: z.coerce.number().positive().max(2048),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  ROLE: z.enum(roles),
  SMTP_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(5),
  SEND_RATE_PER_SECOND: z.coerce.number().int().min(1).optional(),
  DKIM_PRIVATE_KEY: z.string().min(1).optional(),
  DKIM_SELECTOR: z.string().regex(/^[A-Za-z0-9._-]+$/, 'must be a DNS label').optional(),
  DKIM_DOMAIN: z.string().regex(/^[A-Za-z0-9.-]+$/, 'must be a domain name').optional(),
  DELIVERY_CLAIM_TIMEOUT_S: z.coerce.number().int().min(1).max(86400).default(300),
  QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'must be letters, digits, - or _ (no colons)'),
  SHUTDOWN_GRACE_SECONDS: z.coerce.number().positive().max(3600),
  TRUST_PROXY: trustProxy.optional(),
  INVITATIONS_PER_DAY: z.coerce.number().int().min(0).max(MAX_INVITATIONS_PER_DAY).default(500),
  BOUNCE_DOMAIN: z.string().regex(/^(?=.{1,253}$)[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/, 'must be a domain name').optional(),
  BOUNCE_LOCALPART: z.string().regex(/^[A-Za-z0-9_-]{1,14}$/, 'must be 1 to 14 letters, digits, - or _ (no + or .): with the token it must fit the 64 characters of a local part').default('bounce'),
  BOUNCE_SMTP_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  BOUNCE_SMTP_HOST: z.string().min(1).default('0.0.0.0'),
  MAILGUN_WEBHOOK_SIGNING_KEY: z.string().min(16, 'must be at least 16 characters (the key Mailgun shows under Webhooks)').optional(),
  SES_SNS_TOPIC_ARNS: z
    .string()
    .transform((s) => s.split(',').map((arn) => arn.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/, 'must be SNS topic ARNs (arn:aws:sns:<region>:<account>:<name>), comma-separated')))
    .optional(),
  POSTMARK_WEBHOOK_USER: z.string().regex(/^[^:\s]{1,200}$/, 'must be 1 to 200 characters without : or spaces').optional(),
  POSTMARK_WEBHOOK_PASSWORD: z.string().min(16, 'must be at least 16 characters (e.g. `openssl rand -hex 16`)').max(200).optional(),
  SENDGRID_WEBHOOK_PUBLIC_KEY: z
    .string()
    .refine((value) => {
      try {
        return createPublicKey({ key: Buffer.from(value, 'base64'), format: 'der', type: 'spki' }).asymmetricKeyType === 'ec';
      } catch {
        return false;
      }
    }, 'must be the verification key SendGrid shows for its signed Event Webhook (base64, an EC public key)')
    .optional(),
  BOUNCE_IMAP_URL: urlWithScheme('imap', 'imaps').optional(),
  BOUNCE_IMAP_INTERVAL_S: z.coerce.number().int().min(1).max(86_400).default(60),
  BOUNCE_IMAP_MOVE_TO: z.string().min(1).max(200).optional(),
  OUTBOUND_ALLOW_PRIVATE: z.enum(['true', 'false'], { message: 'must be true or false' }).default('false'),
  OUTBOUND_RETRY_DELAY_MS: z.coerce.number().int().min(1).max(3_600_000).default(5000),
  // IndexNow's own rule for a key: 8 to 128 of letters, digits and dashes.
  INDEXNOW_KEY: z.string().regex(/^[A-Za-z0-9-]{8,128}$/, 'must be 8 to 128 letters, digits or dashes (e.g. `openssl rand -hex 16`)').optional(),
  INDEXNOW_ENDPOINT: urlWithScheme('http', 'https').default('https://api.indexnow.org/indexnow'),
  WEBSUB_EXTERNAL_HUBS: z
    .string()
    .transform((value) => value.split(',').map((hub) => hub.trim()).filter(Boolean))
    .pipe(z.array(z.url({ protocol: /^https?$/, message: 'must be http(s) URLs separated by commas' })))
    .optional(),
});

/** Where a secret came from: the environment, a file made on this start, or one made before. */
export type SecretOrigin = 'environment' | 'created' | 'kept';

export interface Config {
  readonly env: 'development' | 'production' | 'test';
  readonly role: Role;
  readonly port: number;
  /** Port of the small health server every role opens when set (the container's HEALTHCHECK asks it). */
  readonly healthPort: number | undefined;
  /** Absolute base URL without a trailing slash. */
  readonly publicUrl: string;
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly smtpUrl: string | undefined;
  readonly mailFrom: string;
  readonly adminToken: string;
  /** Where the admin token came from; outside production one is made once and kept in `adminTokenFile`. */
  readonly adminTokenOrigin: SecretOrigin;
  readonly adminTokenFile: string | undefined;
  /** Key of the HMAC that signs links which need no login (unsubscribe, preferences). */
  readonly signingSecret: string;
  /** The files' folder; with a bucket, only uploads wait here while they are checked. */
  readonly storageDir: string;
  /** STORAGE_URL: the bucket (and key prefix) keeping the files instead of STORAGE_DIR. */
  readonly storageBucket: BucketLocation | undefined;
  readonly outboxDir: string;
  /** The folder holding STORAGE_DIR, where secrets made outside production are kept. */
  readonly dataDir: string;
  readonly uploadMaxBytes: number;
  readonly logLevel: string;
  /** Redis key prefix of the queues: installations sharing one Redis each take their own. */
  readonly queuePrefix: string;
  /** How long SIGTERM waits for requests and jobs under way; below `docker stop`'s 10 s by default. */
  readonly shutdownGraceMs: number;
  /** SMTP connections the delivery keeps open. */
  readonly smtpPoolSize: number;
  /** Release emails sent per second at most (all workers together); undefined: as fast as SMTP takes them. */
  readonly sendRatePerSecond: number | undefined;
  /** DKIM signing of outgoing email, when all three are set. */
  readonly dkim: { privateKey: string; selector: string; domain: string } | undefined;
  /** A delivery claimed longer ago than this is taken to belong to a dead worker and is queued again. */
  readonly deliveryClaimTimeoutMs: number;
  /** Proxies whose X-Forwarded-For is believed (Express's `trust proxy`); false: the socket's address only. */
  readonly trustProxy: TrustProxy;
  /** Addresses a newsroom's staff may invite in 24 hours, unless the admin set the newsroom its own number. */
  readonly invitationsPerDay: number;
  /**
   * Bounces (src/bounces/): with a domain, each release email's envelope sender is
   * `<localPart>+<signed delivery id>@<domain>` (VERP); without, MAIL_FROM as before.
   * `smtpPort`: the worker's SMTP receiver for that domain, when set.
   */
  readonly bounces: { domain: string | undefined; localPart: string; smtpPort: number | undefined; smtpHost: string };
  /** Mailgun's webhook signing key: POST /api/bounces/mailgun answers only when set. */
  readonly mailgunSigningKey: string | undefined;
  /**
   * The other providers' webhooks, each answering only when set: the SNS topics whose
   * SES notifications are read, Postmark's basic auth credentials, SendGrid's public key
   * (base64 DER).
   */
  readonly bounceWebhooks: {
    sesTopicArns: string[];
    postmark: { user: string; password: string } | undefined;
    sendgridPublicKey: string | undefined;
  };
  /**
   * The bounce mailbox the worker reads over IMAP (imap:// or imaps://user:password@host/mailbox),
   * every intervalMs; read messages are moved to moveTo, or deleted.
   */
  readonly bounceImap: { url: string; intervalMs: number; moveTo: string | undefined } | undefined;
  /** Outbound requests (WebSub callbacks, IndexNow, external hubs) may reach loopback, private and link-local addresses. */
  readonly outboundAllowPrivate: boolean;
  /** First delay before an outbound request that failed is tried again; it doubles with each attempt. */
  readonly outboundRetryDelayMs: number;
  /** IndexNow: the key (served at /<key>.txt) and where submissions go; undefined key: nothing is submitted. */
  readonly indexNow: { key: string; endpoint: string } | undefined;
  /** Other WebSub hubs told (hub.mode=publish) when a feed changes, besides this service's own hub. */
  readonly externalHubs: readonly string[];
}

export class ConfigError extends Error {}

const fail = (lines: string[]) => new ConfigError(`Invalid configuration:\n  ${lines.join('\n  ')}`);

/** The command line takes `--role=ROLE` only; anything else is a typo better caught at start. */
function parseArguments(argv: readonly string[]): { ROLE?: string } {
  const given: { ROLE?: string } = {};
  for (const arg of argv) {
    if (arg.startsWith('--role=')) given.ROLE = arg.slice('--role='.length);
    else throw new ConfigError(`Unknown command-line argument "${arg}". The service takes --role=all, --role=web or --role=worker.`);
  }
  return given;
}

/** `<NAME>_FILE` names a file holding the value of NAME (trailing newline dropped); never both. */
function readFileVariables(given: Record<string, string>): Record<string, string> {
  const resolved = { ...given };
  const problems: string[] = [];
  for (const name of FILE_VARIABLES) {
    const file = given[`${name}_FILE`];
    if (file === undefined) continue;
    delete resolved[`${name}_FILE`];
    if (given[name] !== undefined) {
      problems.push(`${name}: set either ${name} or ${name}_FILE, not both`);
      continue;
    }
    try {
      resolved[name] = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      problems.push(`${name}_FILE: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  if (problems.length) throw fail(problems);
  return resolved;
}

/**
 * A secret made once and kept in `file` (mode 0600), so that restarts and every role
 * share it. Written to a temp file, then linked into place: two processes starting
 * together agree on one, and nobody reads a half-written file.
 */
function keptSecret(variable: string, file: string, make: () => string): { value: string; origin: SecretOrigin } {
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(temp, `${make()}\n`, { mode: 0o600 });
    let origin: SecretOrigin = 'created';
    try {
      linkSync(temp, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      origin = 'kept';
    } finally {
      rmSync(temp, { force: true });
    }
    chmodSync(file, 0o600);
    const value = readFileSync(file, 'utf8').trim();
    if (!value) throw new Error(`${file} is empty; delete it to make a new one`);
    return { value, origin };
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    const why = e.code === 'EACCES' || e.code === 'EPERM'
      ? `permission denied: the folder must be writable by this user (uid ${process.getuid?.() ?? '?'})`
      : e.message;
    throw fail([`${variable}: not set, and cannot keep a generated one in ${file}: ${why}`]);
  }
}

/**
 * Reads the configuration once, from the environment over config/defaults.json.
 * Empty variables count as unset. A bad value throws a ConfigError naming the variable.
 * Outside production, a missing ADMIN_TOKEN or SIGNING_SECRET is generated once and kept
 * in the data folder (the folder holding STORAGE_DIR).
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  argv: readonly string[] = [],
): Config {
  const given = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')) as Record<string, string>;
  const parsed = envSchema.safeParse({ ...defaults, ...readFileVariables(given), ...parseArguments(argv) });
  if (!parsed.success) {
    throw fail(parsed.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`));
  }
  const e = parsed.data;
  if (e.NODE_ENV === 'production') {
    const missing = (['ADMIN_TOKEN', 'SIGNING_SECRET', 'PUBLIC_URL'] as const).filter((name) => !e[name]);
    if (missing.length) throw fail(missing.map((name) => `${name}: required when NODE_ENV=production`));
  }
  const dkimParts = [e.DKIM_PRIVATE_KEY, e.DKIM_SELECTOR, e.DKIM_DOMAIN];
  if (e.BOUNCE_SMTP_PORT !== undefined && !e.BOUNCE_DOMAIN) {
    throw fail(['BOUNCE_SMTP_PORT: the bounce receiver needs BOUNCE_DOMAIN (the domain it accepts mail for)']);
  }
  if (!e.POSTMARK_WEBHOOK_USER !== !e.POSTMARK_WEBHOOK_PASSWORD) {
    throw fail(['POSTMARK_WEBHOOK_USER: POSTMARK_WEBHOOK_USER and POSTMARK_WEBHOOK_PASSWORD go together']);
  }
  if (dkimParts.some(Boolean) && !dkimParts.every(Boolean)) {
    throw fail(['DKIM_PRIVATE_KEY: DKIM_PRIVATE_KEY, DKIM_SELECTOR and DKIM_DOMAIN go together']);
  }
  const storageDir = path.resolve(e.STORAGE_DIR);
  const dataDir = path.dirname(storageDir);
  const adminTokenFile = e.ADMIN_TOKEN ? undefined : path.join(dataDir, 'admin-token');
  const adminToken = adminTokenFile
    ? keptSecret('ADMIN_TOKEN', adminTokenFile, () => randomBytes(24).toString('base64url'))
    : { value: e.ADMIN_TOKEN!, origin: 'environment' as const };
  const signingSecret = e.SIGNING_SECRET
    ?? keptSecret('SIGNING_SECRET', path.join(dataDir, 'signing-secret'), () => randomBytes(32).toString('base64url')).value;
  return Object.freeze({
    env: e.NODE_ENV,
    role: e.ROLE,
    port: e.PORT,
    healthPort: e.HEALTH_PORT,
    publicUrl: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    adminToken: adminToken.value,
    adminTokenOrigin: adminToken.origin,
    adminTokenFile,
    signingSecret,
    storageDir,
    storageBucket: e.STORAGE_URL
      ? { ...parseBucketUrl(e.STORAGE_URL), endpoint: e.AWS_ENDPOINT_URL_S3 ?? e.AWS_ENDPOINT_URL }
      : undefined,
    outboxDir: path.resolve(e.OUTBOX_DIR),
    dataDir,
    uploadMaxBytes: Math.floor(e.UPLOAD_MAX_MB * 1024 * 1024),
    logLevel: e.LOG_LEVEL,
    queuePrefix: e.QUEUE_PREFIX,
    shutdownGraceMs: e.SHUTDOWN_GRACE_SECONDS * 1000,
    smtpPoolSize: e.SMTP_POOL_SIZE,
    sendRatePerSecond: e.SEND_RATE_PER_SECOND,
    dkim:
      e.DKIM_PRIVATE_KEY && e.DKIM_SELECTOR && e.DKIM_DOMAIN
        ? { privateKey: e.DKIM_PRIVATE_KEY.replace(/\\n/g, '\n'), selector: e.DKIM_SELECTOR, domain: e.DKIM_DOMAIN }
        : undefined,
    deliveryClaimTimeoutMs: e.DELIVERY_CLAIM_TIMEOUT_S * 1000,
    trustProxy: e.TRUST_PROXY ?? false,
    invitationsPerDay: e.INVITATIONS_PER_DAY,
    mailgunSigningKey: e.MAILGUN_WEBHOOK_SIGNING_KEY,
    bounceWebhooks: {
      sesTopicArns: e.SES_SNS_TOPIC_ARNS ?? [],
      postmark: e.POSTMARK_WEBHOOK_USER && e.POSTMARK_WEBHOOK_PASSWORD ? { user: e.POSTMARK_WEBHOOK_USER, password: e.POSTMARK_WEBHOOK_PASSWORD } : undefined,
      sendgridPublicKey: e.SENDGRID_WEBHOOK_PUBLIC_KEY,
    },
    bounceImap: e.BOUNCE_IMAP_URL ? { url: e.BOUNCE_IMAP_URL, intervalMs: e.BOUNCE_IMAP_INTERVAL_S * 1000, moveTo: e.BOUNCE_IMAP_MOVE_TO } : undefined,
    bounces: { domain: e.BOUNCE_DOMAIN?.toLowerCase(), localPart: e.BOUNCE_LOCALPART, smtpPort: e.BOUNCE_SMTP_PORT, smtpHost: e.BOUNCE_SMTP_HOST },
    outboundAllowPrivate: e.OUTBOUND_ALLOW_PRIVATE === 'true',
    outboundRetryDelayMs: e.OUTBOUND_RETRY_DELAY_MS,
    indexNow: e.INDEXNOW_KEY ? { key: e.INDEXNOW_KEY, endpoint: e.INDEXNOW_ENDPOINT } : undefined,
    externalHubs: e.WEBSUB_EXTERNAL_HUBS ?? [],
  });
}
