import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** Project root: config/, templates/ and the relative default paths hang off it. */
export const projectRoot = fileURLToPath(new URL('../..', import.meta.url));

const defaults: Record<string, string> = JSON.parse(
  readFileSync(path.join(projectRoot, 'config', 'defaults.json'), 'utf8'),
);

const roles = ['all', 'web', 'worker'] as const;
export type Role = (typeof roles)[number];

const mailbox = /^[^\s@<>]+@[^\s@<>]+$/;

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535),
  PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  DATABASE_URL: z
    .string()
    .regex(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, 'must be sqlite:PATH or postgres://...'),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }),
  SMTP_URL: z.url({ protocol: /^smtps?$/ }).optional(),
  MAIL_FROM: z.string().regex(mailbox, 'must be an email address'),
  ADMIN_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
  SIGNING_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  STORAGE_DIR: z.string().min(1),
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
});

export interface Config {
  readonly env: 'development' | 'production' | 'test';
  readonly role: Role;
  readonly port: number;
  /** Absolute base URL without a trailing slash. */
  readonly publicUrl: string;
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly smtpUrl: string | undefined;
  readonly mailFrom: string;
  readonly adminToken: string;
  /** True when no ADMIN_TOKEN was given and one was made for this run. */
  readonly adminTokenGenerated: boolean;
  /** Key of the HMAC that signs links which need no login (unsubscribe, preferences). */
  readonly signingSecret: string;
  readonly storageDir: string;
  readonly outboxDir: string;
  readonly uploadMaxBytes: number;
  readonly logLevel: string;
  /** Redis key prefix of the queues: installations sharing one Redis each take their own. */
  readonly queuePrefix: string;
  /** SMTP connections the delivery keeps open. */
  readonly smtpPoolSize: number;
  /** Release emails sent per second at most (all workers together); undefined: as fast as SMTP takes them. */
  readonly sendRatePerSecond: number | undefined;
  /** DKIM signing of outgoing email, when all three are set. */
  readonly dkim: { privateKey: string; selector: string; domain: string } | undefined;
  /** A delivery claimed longer ago than this is taken to belong to a dead worker and is queued again. */
  readonly deliveryClaimTimeoutMs: number;
}

export class ConfigError extends Error {}

/**
 * Reads the configuration once, from the environment over config/defaults.json.
 * Empty variables count as unset. A bad value throws a ConfigError naming the variable.
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  argv: readonly string[] = [],
): Config {
  const given = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const roleArg = argv.find((a) => a.startsWith('--role='))?.slice('--role='.length);
  const parsed = envSchema.safeParse({ ...defaults, ...given, ...(roleArg ? { ROLE: roleArg } : {}) });
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;
  if (e.NODE_ENV === 'production' && !e.ADMIN_TOKEN) {
    throw new ConfigError('Invalid configuration:\n  ADMIN_TOKEN: required when NODE_ENV=production');
  }
  const dkimParts = [e.DKIM_PRIVATE_KEY, e.DKIM_SELECTOR, e.DKIM_DOMAIN];
  if (dkimParts.some(Boolean) && !dkimParts.every(Boolean)) {
    throw new ConfigError('Invalid configuration:\n  DKIM_PRIVATE_KEY: DKIM_PRIVATE_KEY, DKIM_SELECTOR and DKIM_DOMAIN go together');
  }
  if (e.NODE_ENV === 'production' && !e.SIGNING_SECRET) {
    throw new ConfigError('Invalid configuration:\n  SIGNING_SECRET: required when NODE_ENV=production');
  }
  return Object.freeze({
    env: e.NODE_ENV,
    role: e.ROLE,
    port: e.PORT,
    publicUrl: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    adminToken: e.ADMIN_TOKEN ?? randomBytes(24).toString('base64url'),
    adminTokenGenerated: !e.ADMIN_TOKEN,
    signingSecret: e.SIGNING_SECRET ?? randomBytes(32).toString('base64url'),
    storageDir: path.resolve(e.STORAGE_DIR),
    outboxDir: path.resolve(e.OUTBOX_DIR),
    uploadMaxBytes: Math.floor(e.UPLOAD_MAX_MB * 1024 * 1024),
    logLevel: e.LOG_LEVEL,
    queuePrefix: e.QUEUE_PREFIX,
    smtpPoolSize: e.SMTP_POOL_SIZE,
    sendRatePerSecond: e.SEND_RATE_PER_SECOND,
    dkim:
      e.DKIM_PRIVATE_KEY && e.DKIM_SELECTOR && e.DKIM_DOMAIN
        ? { privateKey: e.DKIM_PRIVATE_KEY.replace(/\\n/g, '\n'), selector: e.DKIM_SELECTOR, domain: e.DKIM_DOMAIN }
        : undefined,
    deliveryClaimTimeoutMs: e.DELIVERY_CLAIM_TIMEOUT_S * 1000,
  });
}
