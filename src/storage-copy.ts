/*
 * Copies this installation's files to a bucket, checking every one:
 *
 *   npm run storage:copy -- --to s3://BUCKET[/PREFIX]      (from a source checkout)
 *   node dist/storage-copy.js --to s3://BUCKET[/PREFIX]     (in the image)
 *
 * It reads the service's own configuration (DATABASE_URL, STORAGE_DIR or STORAGE_URL,
 * the AWS_* variables for the target), copies every blob the database records and its
 * rendition, reads each back from the bucket to check its SHA-256, and marks the bucket
 * as this installation's. Run it again at will: what is there with the right hash is
 * left alone. It exits 1 when any file is missing or has the wrong hash, else 0; then
 * set STORAGE_URL to the bucket and restart the service.
 */
import { copyFiles } from './attachments/copy.js';
import { openFileStore } from './attachments/storage.js';
import { ConfigError, loadConfig } from './lib/config.js';
import { installationId, migrate, openStore } from './lib/db/database.js';
import { parseBucketUrl } from './lib/storage/store.js';

function targetOf(argv: string[]): string {
  const usage = 'Usage: npm run storage:copy -- --to s3://BUCKET[/PREFIX]';
  const [flag, value, ...rest] = argv.length === 1 ? (argv[0]!.split(/=(.*)/s, 2) as [string, string]) : argv;
  if (flag !== '--to' || !value || rest.length) throw new ConfigError(usage);
  try {
    parseBucketUrl(value);
  } catch (error) {
    throw new ConfigError(`--to ${value}: ${(error as Error).message}\n${usage}`);
  }
  return value;
}

async function main(): Promise<number> {
  const to = targetOf(process.argv.slice(2));
  const config = loadConfig(process.env);
  // The target through the same configuration, so that it is addressed as the service will.
  const target = loadConfig({ ...process.env, STORAGE_URL: to });
  const store = openStore(config.databaseUrl);
  try {
    await migrate(store);
    const from = await openFileStore(config);
    const into = await openFileStore(target);
    const { place: fromPlace } = from.objects.location;
    const { place: intoPlace } = into.objects.location;
    if (fromPlace === intoPlace) throw new ConfigError(`--to ${to} is where the files are already (${from.objects.location.variable}).`);
    await into.checkWritable();
    await into.claim(await installationId(store));

    console.log(`Copying the files of ${config.databaseUrl.replace(/\/\/[^@/]*@/, '//')} from ${fromPlace} to ${intoPlace}`);
    let shown = 0;
    const summary = await copyFiles(store.db, from, into, (done, total) => {
      if (done === total || Date.now() - shown > 5000) {
        shown = Date.now();
        console.log(`  ${done} of ${total} blobs`);
      }
    });
    const { copied, alreadyThere, missing, mismatched } = summary;
    console.log(
      [
        `Blobs recorded in the database: ${summary.blobs}`,
        `Copied and checked:             ${copied.blobs} blobs, ${copied.renditions} renditions`,
        `Already there, hash checked:    ${alreadyThere.blobs} blobs, ${alreadyThere.renditions} renditions`,
        `Missing from the source:        ${missing.named.length} named by attachments or logos, ${missing.unnamed.length} unused`,
        `Wrong hash:                     ${mismatched.length}`,
        `Not recorded, so not copied:    ${summary.unrecorded} blobs in the source`,
      ].join('\n'),
    );
    for (const sha256 of missing.named) console.error(`missing from the source: ${from.blobKey(sha256)}`);
    for (const key of mismatched) console.error(`wrong hash: ${key}`);
    const ok = missing.named.length === 0 && mismatched.length === 0;
    console.log(ok ? `Done: set STORAGE_URL=${to} and restart the service.` : 'Not done: the files above need a look before the move.');
    return ok ? 0 : 1;
  } finally {
    await store.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error instanceof ConfigError ? error.message : `storage:copy failed: ${error instanceof Error ? error.message : error}`);
    process.exit(1);
  },
);
