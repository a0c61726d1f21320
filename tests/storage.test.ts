import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { pino } from 'pino';
import sharp from 'sharp';
import { openFileStore } from '../src/attachments/storage.js';
import { loadConfig } from '../src/lib/config.js';
import { sha256Of } from '../src/lib/storage/digest.js';
import { createContext } from '../src/runtime.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from './support/app.js';
import { buildAttachment, buildNewsroom, buildRelease, minimalPdf } from './support/factories.js';

/*
 * Files in a bucket (STORAGE_URL): the setting, the checks at start, and the move of an
 * installation's files from STORAGE_DIR into a bucket (npm run storage:copy). Runs in the
 * s3 project only, against the S3 test server it starts (tests/setup/s3-server.cjs).
 */

const endpoint = process.env.TEST_S3_ENDPOINT!;
const bucket = process.env.TEST_S3_BUCKET!;
const dir = mkdtempSync(path.join(tmpdir(), 'newsroom-storage-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const prefixUrl = () => `s3://${bucket}/storage-test-${randomBytes(6).toString('hex')}`;

/** What a process of the service gets: its own SQLite file and folder, the bucket's AWS_* settings. */
function serviceEnv(name: string): Record<string, string> {
  return {
    DATABASE_URL: `sqlite:${path.join(dir, `${name}.db`)}`,
    STORAGE_DIR: path.join(dir, name, 'files'),
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    ADMIN_TOKEN,
    SIGNING_SECRET: 'storage-test-signing-secret-0123456789abcdef',
    LOG_LEVEL: 'silent',
    QUEUE_PREFIX: `storage-test-${name}-${process.pid}`,
    AWS_ENDPOINT_URL_S3: endpoint,
  };
}

/** Runs a script of the project (`src/...`) as a process with `env` (and the AWS_* credentials); gives its exit code and output. */
function run(script: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    env: {
      PATH: process.env.PATH,
      AWS_REGION: process.env.AWS_REGION,
      AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
}

/** Starting a process compiles TypeScript (tsx): slow on a busy CI machine. */
const PROCESS_TEST_MS = 120_000;

describe('STORAGE_URL', () => {
  const base = { ...serviceEnv('config'), PORT: '0' };

  it('reads a bucket and a prefix, and addresses the endpoint of AWS_ENDPOINT_URL_S3', () => {
    expect(loadConfig({ ...base, STORAGE_URL: 's3://news-files/prod//2024/' }).storageBucket).toEqual({ bucket: 'news-files', prefix: 'prod/2024/', endpoint });
    expect(loadConfig({ ...base, STORAGE_URL: 's3://news-files', AWS_ENDPOINT_URL_S3: '' }).storageBucket).toEqual({ bucket: 'news-files', prefix: '', endpoint: undefined });
    expect(loadConfig(base).storageBucket).toBeUndefined();
  });

  it.each([
    ['https://news-files/prod', /STORAGE_URL: has the scheme "https:"; it must be s3:\/\/BUCKET\[\/PREFIX\]/],
    ['s3://', /STORAGE_URL: names no bucket/],
    ['s3:///prefix', /STORAGE_URL: names no bucket/],
    ['s3://News_Files', /STORAGE_URL: names the bucket "News_Files", which is not a bucket name/],
    ['s3://news-files/a/../b', /STORAGE_URL: has "." or ".." in its prefix/],
    ['news-files', /STORAGE_URL: must be s3:\/\/BUCKET\[\/PREFIX\]/],
  ])('refuses %s, naming STORAGE_URL', (value, message) => {
    expect(() => loadConfig({ ...base, STORAGE_URL: value })).toThrow(message);
  });

  it('stops the process at start, naming the variable, for a STORAGE_URL that is no bucket URL', async () => {
    const { code, output } = await run('src/main.ts', [], { ...base, STORAGE_URL: 'https://news-files' });
    expect(code).toBe(1);
    expect(output).toMatch(/STORAGE_URL: has the scheme "https:"/);
  }, PROCESS_TEST_MS);

  it('stops at start, naming STORAGE_URL, when the bucket cannot be written', async () => {
    const config = loadConfig({ ...serviceEnv('missing-bucket'), STORAGE_URL: 's3://no-such-bucket-here/x' });
    await expect(createContext(config, { logger: pino({ level: 'silent' }) })).rejects.toThrow(
      /^STORAGE_URL: cannot write files under s3:\/\/no-such-bucket-here\/x\/: /,
    );
  });

  it('keeps a bucket prefix to the database that first used it', async () => {
    const shared = prefixUrl();
    const first = await startTestApp({ ...serviceEnv('first'), STORAGE_URL: shared });
    try {
      const second = loadConfig({ ...serviceEnv('second'), STORAGE_URL: shared });
      await expect(createContext(second, { logger: pino({ level: 'silent' }) })).rejects.toThrow(
        new RegExp(`^STORAGE_URL: ${shared}/ holds the files of another database \\(installation [0-9a-f-]+\\); this DATABASE_URL is installation `),
      );
      // The same database (a second machine of the installation) is welcome.
      const again = await startTestApp({ ...serviceEnv('first'), STORAGE_URL: shared });
      await again.close();
    } finally {
      await first.close();
    }
  });
});

describe('storage:copy', () => {
  let source: TestApp;
  const env = serviceEnv('copy');
  const files: { url: string; bytes: Buffer; sha256: string; webUrl?: string }[] = [];
  let logo: { url: string; sha256: string };
  let auth: { Authorization: string };

  /** A store on the bucket prefix `url`, to look at what the copy left there. */
  const bucketStore = (url: string) => openFileStore(loadConfig({ ...env, STORAGE_URL: url }));
  const copy = (to: string) => run('src/storage-copy.ts', ['--to', to], env);

  beforeAll(async () => {
    // An installation on a local folder, with a PDF, an image (and its rendition) and a logo.
    source = await startTestApp({ ...env, STORAGE_URL: '' });
    const newsroom = await buildNewsroom(source);
    auth = newsroom.auth;
    const release = await buildRelease(source, newsroom);
    const png = await sharp({ create: { width: 1800, height: 900, channels: 3, background: '#369' } }).png().toBuffer();
    for (const [bytes, filename] of [[minimalPdf, 'tiedote.pdf'], [png, 'kuva.png']] as const) {
      const attachment = await buildAttachment(source, newsroom, release.id, { bytes, filename });
      files.push({ url: new URL(attachment.url).pathname, bytes, sha256: attachment.sha256, webUrl: attachment.webUrl && new URL(attachment.webUrl).pathname });
    }
    const set = await source.http.put(`/api/newsrooms/${newsroom.slug}/logo`).set(auth).attach('file', png, 'logo.png').expect(200);
    const logoPath = new URL(set.body.logoUrl).pathname;
    logo = { url: logoPath, sha256: /([0-9a-f]{64})\.png$/.exec(logoPath)![1]! };
  });
  afterAll(() => source.close());

  it('copies every blob, rendition and logo into the bucket, checked, and the service then serves them from there', async () => {
    const to = prefixUrl();
    const first = await copy(to);
    expect(first.output).toMatch(/Blobs recorded in the database: 3\n/);
    expect(first.output).toMatch(/Copied and checked: +3 blobs, 1 renditions\n/);
    expect(first.output).toMatch(/Wrong hash: +0\n/);
    expect(first.output).toMatch(/Not recorded, so not copied: +0 blobs in the source\n/);
    expect(first.code).toBe(0);
    const target = await bucketStore(to);
    for (const sha of [...files.map((f) => f.sha256), logo.sha256]) {
      expect(await sha256Of((await target.objects.get(target.blobKey(sha)))!.body)).toBe(sha);
    }

    // Run again: nothing to copy, everything checked.
    const second = await copy(to);
    expect(second.output).toMatch(/Copied and checked: +0 blobs, 0 renditions\n/);
    expect(second.output).toMatch(/Already there, hash checked: +3 blobs, 1 renditions\n/);
    expect(second.code).toBe(0);

    // The same database with STORAGE_URL on the bucket: every file as it was.
    const moved = await startTestApp({ ...env, STORAGE_URL: to });
    try {
      for (const file of files) {
        const res = await moved.http.get(file.url).set(auth).buffer(true).expect(200);
        expect(Buffer.compare(res.body, file.bytes)).toBe(0);
        if (file.webUrl) {
          const [web, before] = await Promise.all([moved.http.get(file.webUrl).set(auth).buffer(true).expect(200), source.http.get(file.webUrl).set(auth).buffer(true).expect(200)]);
          expect(Buffer.compare(web.body, before.body)).toBe(0);
        }
      }
      await moved.http.get(logo.url).expect(200);
    } finally {
      await moved.close();
    }
  }, PROCESS_TEST_MS);

  it("counts, and leaves, files in the source that the database does not record", async () => {
    const stray = Buffer.from(`another database's file ${randomBytes(4).toString('hex')}`);
    const from = source.ctx.files;
    await from.keepBlob(sha256(stray), stray);
    try {
      const to = prefixUrl();
      const result = await copy(to);
      expect(result.output).toMatch(/Not recorded, so not copied: +1 blobs in the source\n/);
      expect(result.code).toBe(0);
      const target = await bucketStore(to);
      expect(await target.objects.head(target.blobKey(sha256(stray)))).toBeUndefined();
    } finally {
      await from.removeBlob(sha256(stray));
    }
  }, PROCESS_TEST_MS);

  it('replaces a wrong copy in the bucket on a second run', async () => {
    const to = prefixUrl();
    expect((await copy(to)).code).toBe(0);
    const target = await bucketStore(to);
    const pdf = files[0]!;
    await target.objects.put(target.blobKey(pdf.sha256), Buffer.from('not the PDF'));
    const again = await copy(to);
    expect(again.output).toMatch(/Copied and checked: +1 blobs, 0 renditions\n/);
    expect(again.code).toBe(0);
    expect(await sha256Of((await target.objects.get(target.blobKey(pdf.sha256)))!.body)).toBe(pdf.sha256);
  }, PROCESS_TEST_MS);

  it('exits 1, naming them, when a file of the source is missing or does not have its hash', async () => {
    const [pdf, image] = files;
    const from = source.ctx.files;
    const pdfBytes = (await from.objects.get(from.blobKey(pdf!.sha256)))!;
    const kept = Buffer.concat(await pdfBytes.body.toArray());
    await from.objects.put(from.blobKey(pdf!.sha256), Buffer.from('bit rot'));
    const imageBytes = Buffer.concat(await (await from.objects.get(from.blobKey(image!.sha256)))!.body.toArray());
    await from.objects.delete(from.blobKey(image!.sha256));
    try {
      const to = prefixUrl();
      const result = await copy(to);
      expect(result.code).toBe(1);
      expect(result.output).toContain(`wrong hash: ${from.blobKey(pdf!.sha256)}`);
      expect(result.output).toContain(`missing from the source: ${from.blobKey(image!.sha256)}`);
      expect(result.output).toMatch(/Missing from the source: +1 named by attachments or logos, 0 unused\n/);
      expect(result.output).toMatch(/Wrong hash: +1\n/);
      // No wrong copy is left in the bucket.
      const target = await bucketStore(to);
      expect(await target.objects.head(target.blobKey(pdf!.sha256))).toBeUndefined();
    } finally {
      await from.objects.put(from.blobKey(pdf!.sha256), kept);
      await from.objects.put(from.blobKey(image!.sha256), imageBytes);
    }
    expect(sha256(kept)).toBe(pdf!.sha256);
  }, PROCESS_TEST_MS);

  it('refuses a target that is no bucket URL, or a bucket prefix of another installation', async () => {
    const bad = await copy('/srv/files');
    expect(bad.code).toBe(1);
    expect(bad.output).toMatch(/--to \/srv\/files: must be s3:\/\/BUCKET\[\/PREFIX\]/);

    const taken = prefixUrl();
    const other = await startTestApp({ ...serviceEnv('other'), STORAGE_URL: taken });
    await other.close();
    const refused = await copy(taken);
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(/STORAGE_URL: s3:\/\/.+ holds the files of another database/);
  }, PROCESS_TEST_MS);
});
