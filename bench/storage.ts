/*
 * Upload and file-read throughput with the files in a bucket (STORAGE_URL) against the
 * local folder (STORAGE_DIR), measured in the same run.
 *
 *   npm run bench:storage                       # starts its own moto_server (or s3rver)
 *   BENCH_STORAGE_URL=s3://BUCKET/PREFIX AWS_ENDPOINT_URL_S3=... AWS_REGION=... npm run bench:storage
 *
 * Each store gets a service of its own (same database kind: SQLite, or
 * BENCH_DATABASE_URL). Uploads: UPLOADS distinct 1 MB PDFs through the API (multipart),
 * UPLOAD_CONCURRENCY at a time. Reads: autocannon, in a process of its own, loads one
 * published file (1 MB, and 20 KB like a web-size image) for BENCH_SECONDS. It prints
 * MB/s and requests/s per store and the ratio bucket / folder. With moto_server (a
 * Python test server on the same machine) the bucket's figure is mostly moto's; point
 * BENCH_STORAGE_URL at a real S3-compatible server for a figure about it.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { buildApp } from '../src/app.js';
import { apiCaller, autocannon, BENCH_ADMIN as ADMIN, benchService, listenLocally, printTable } from './support.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const UPLOADS = Number(process.env.BENCH_UPLOADS ?? 40);
const UPLOAD_CONCURRENCY = 4;
const MB = 1024 * 1024;

const pdf = (size: number) => Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(size - 9)]);

// A bucket: the one given, or one in an S3-compatible server of our own.
let bucketUrl = process.env.BENCH_STORAGE_URL;
let stopServer = async () => {};
if (!bucketUrl) {
  const { startS3Server } = createRequire(import.meta.url)('../tests/setup/s3-server.cjs');
  const server = await startS3Server('newsroom-bench');
  stopServer = server.stop;
  bucketUrl = `s3://${server.bucket}/bench-${process.pid}`;
  process.env.AWS_ENDPOINT_URL_S3 = server.endpoint;
  process.env.AWS_REGION ??= 'us-east-1';
  // Any key for moto; s3rver knows only its own.
  process.env.AWS_ACCESS_KEY_ID ??= 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'S3RVER';
}
const bucketEnv = { STORAGE_URL: bucketUrl, ...(process.env.AWS_ENDPOINT_URL_S3 ? { AWS_ENDPOINT_URL_S3: process.env.AWS_ENDPOINT_URL_S3 } : {}) };

interface Measured {
  /** 1 MB each, so also uploads per second. */
  uploadMBs: number;
  reads: { name: string; MBs: number; perSecond: number; p99: number }[];
}

async function load(url: string) {
  const result = await autocannon(url, { connections: CONNECTIONS, seconds: SECONDS });
  return { MBs: result.throughput.average / MB, perSecond: result.requests.average, p99: result.latency.p99 };
}

async function measure(name: string, env: Record<string, string>): Promise<Measured> {
  const service = await benchService(name, { PUBLIC_URL: 'http://127.0.0.1', UPLOAD_MAX_MB: '50', ...env });
  const { server, origin } = await listenLocally(buildApp(service.ctx));
  try {
    const call = apiCaller(origin);
    const slug = `bench-${name}-${process.pid}`;
    await call('POST', '/api/newsrooms', ADMIN, { slug, languages: ['fi'], name: { fi: 'Penkki' }, timezone: 'Europe/Helsinki' });
    const { token } = await call('POST', `/api/newsrooms/${slug}/tokens`, ADMIN, { name: 'bench' });
    const release = await call('POST', `/api/newsrooms/${slug}/releases`, token, { translations: { fi: { title: 'Tiedote', lead: 'Ingressi.', body: 'Teksti.' } } });
    const upload = async (bytes: Buffer, filename: string) => {
      const form = new FormData();
      form.append('file', new Blob([bytes]), filename);
      const res = await fetch(`${origin}/api/releases/${release.id}/attachments`, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: form });
      if (res.status !== 201) throw new Error(`upload: ${res.status} ${await res.text()}`);
      return res.json() as Promise<{ url: string }>;
    };

    // Distinct bytes each time, so that every upload is written to the store.
    const files = Array.from({ length: UPLOADS }, () => pdf(MB));
    const started = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: UPLOAD_CONCURRENCY }, async () => {
      while (next < files.length) await upload(files[next++]!, 'bench.pdf');
    }));
    const seconds = (performance.now() - started) / 1000;

    const large = await upload(pdf(MB), 'large.pdf');
    const small = await upload(pdf(20 * 1024), 'small.pdf');
    await call('POST', `/api/releases/${release.id}/publish`, token);
    const local = (url: string) => origin + new URL(url).pathname;
    const reads = [];
    for (const [label, file] of [['read 1 MB file', large], ['read 20 KB file', small]] as const) {
      reads.push({ name: label, ...(await load(local(file.url))) });
    }
    return { uploadMBs: UPLOADS / seconds, reads };
  } finally {
    server.close();
    await service.close();
  }
}

try {
  const folder = await measure('storage-folder', {});
  const bucket = await measure('storage-bucket', bucketEnv);
  const [large, small] = [0, 1].map((i) => [folder.reads[i]!, bucket.reads[i]!] as const);
  const rows = [
    ['upload 1 MB PDFs (MB/s)', folder.uploadMBs, bucket.uploadMBs],
    [`${large![0].name} (MB/s)`, large![0].MBs, large![1].MBs],
    [`${small![0].name} (req/s)`, small![0].perSecond, small![1].perSecond],
  ] as const;
  const cells = rows.map(([name, a, b]) => [name, a.toFixed(1), b.toFixed(1), (b / a).toFixed(2)]);
  const header = ['case', 'STORAGE_DIR', 'STORAGE_URL', 'ratio bucket/folder'];
  console.log(`\n${bucketUrl} (${process.env.AWS_ENDPOINT_URL_S3 ?? 'AWS'}); ${UPLOADS} uploads, ${UPLOAD_CONCURRENCY} at a time; reads: ${CONNECTIONS} connections, ${SECONDS} s (autocannon)\n`);
  printTable(header, cells);
  for (const [name, m] of [['STORAGE_DIR', folder], ['STORAGE_URL', bucket]] as const) {
    console.log(`${name} read p99: ${m.reads.map((r) => `${r.name} ${r.p99} ms`).join(', ')}`);
  }
} finally {
  await stopServer();
}
