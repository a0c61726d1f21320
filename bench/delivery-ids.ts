/*
 * Why delivery ids are time-ordered (delivery/repository.ts, newDeliveryId): the database
 * time of claiming and recording send jobs of 25 deliveries, random UUIDs (v4) against
 * UUIDv7, on SQLite with the deliveries table's indexes, 3 releases of 20 000 deliveries.
 * Prints the time per message of each and their ratio, measured in the same run.
 *
 *   node --import tsx bench/delivery-ids.ts
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { v7 as uuidv7 } from 'uuid';

const AUDIENCE = 20_000;
const RELEASES = 3;
const BATCH = 25;
const dir = mkdtempSync(path.join(tmpdir(), 'newsroom-ids-'));

/** Milliseconds of database time per message, claiming then recording jobs of BATCH. */
function claimAndRecord(newId: () => string, round: number): number {
  const db = new Database(path.join(dir, `ids-${round}.db`));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  // The columns and indexes of the deliveries table (migrations 0001, 0007, 0027).
  db.exec(`create table deliveries (id text primary key, release_id text, subscriber_id text, status text, language text, email_hash text,
      attempts integer default 0, claimed_at text, claimed_by text, sent_at text, smtp_response text, message_id text, error text,
      created_at text, updated_at text, unique (release_id, subscriber_id));
    create index deliveries_release_status on deliveries (release_id, status);
    create index deliveries_recovery on deliveries (status, id);
    create index deliveries_release_sent on deliveries (release_id, sent_at);
    create index deliveries_email_hash on deliveries (email_hash);
    create index deliveries_message_id on deliveries (message_id);`);
  const subscribers = Array.from({ length: AUDIENCE }, () => randomUUID());
  const insert = db.prepare('insert into deliveries (id, release_id, subscriber_id, status, language, email_hash, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?)');
  const releases = Array.from({ length: RELEASES }, (_, r) => {
    const ids = subscribers.map(() => newId());
    db.transaction(() => ids.forEach((id, i) => insert.run(id, `release-${r}`, subscribers[i], 'queued', 'fi', randomUUID(), 'now', 'now')))();
    return ids;
  });
  const marks = Array.from({ length: BATCH }, () => '?').join(', ');
  const claim = db.prepare(`update deliveries set status = 'sending', claimed_at = 'now', claimed_by = 'bench', attempts = attempts + 1 where id in (${marks}) and status = 'queued' returning id, subscriber_id`);
  const cases = Array.from({ length: BATCH }, () => 'when ? then ?').join(' ');
  const record = db.prepare(`update deliveries set status = 'sent', sent_at = 'now', smtp_response = case id ${cases} end, message_id = case id ${cases} end, claimed_at = null where id in (${marks}) and status in ('sending', 'queued')`);
  const start = process.hrtime.bigint();
  for (const ids of releases) {
    for (let i = 0; i + BATCH <= ids.length; i += BATCH) {
      const job = ids.slice(i, i + BATCH);
      claim.all(...job);
      record.run(...job.flatMap((id) => [id, `250 Ok: queued as ${id}`]), ...job.flatMap((id) => [id, `<${id}@news.example>`]), ...job);
    }
  }
  const perMessage = Number(process.hrtime.bigint() - start) / 1e6 / (AUDIENCE * RELEASES);
  db.close();
  return perMessage;
}

const rounds = [0, 1].map((round) => ({ random: claimAndRecord(randomUUID, round * 2), ordered: claimAndRecord(uuidv7, round * 2 + 1) }));
rmSync(dir, { recursive: true, force: true });
console.table(
  Object.fromEntries(
    rounds.map((r, i) => [`round ${i + 1}`, { 'random ids (ms a message)': r.random.toFixed(4), 'UUIDv7 (ms a message)': r.ordered.toFixed(4), 'UUIDv7 / random': (r.ordered / r.random).toFixed(2) }]),
  ),
);
