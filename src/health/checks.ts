import type { AppContext } from '../context.js';
import { probeStoreWrite } from '../lib/db/database.js';

export type CheckName = 'database' | 'storage' | 'redis';

export interface Readiness {
  ready: boolean;
  /** 'ok', or the error of each check that failed: for the admin and the log only. */
  checks: Record<CheckName, string>;
}

/**
 * What readiness means: the database and the file store (STORAGE_DIR or STORAGE_URL)
 * take a small write (a full disk, a read-only mount or a bucket out of reach fails
 * here, not only at the next upload) and Redis answers.
 * A failing check is logged with its real error.
 */
export async function readiness(ctx: AppContext): Promise<Readiness> {
  const run = async (name: CheckName, probe: () => Promise<unknown>): Promise<string> => {
    try {
      await probe();
      return 'ok';
    } catch (error) {
      ctx.logger.warn({ err: error, check: name }, 'readiness check failed');
      return error instanceof Error ? error.message : 'failed';
    }
  };
  const [database, storage, redis] = await Promise.all([
    run('database', () => probeStoreWrite(ctx.store)),
    run('storage', () => ctx.files.checkWritable()),
    run('redis', () => ctx.publication.ping()),
  ]);
  const checks = { database, storage, redis };
  return { ready: Object.values(checks).every((c) => c === 'ok'), checks };
}

/** The public answer says which check failed, never why: error messages may name paths, hosts or users. */
export function publicChecks(checks: Readiness['checks']): Record<string, string> {
  return Object.fromEntries(Object.entries(checks).map(([name, result]) => [name, result === 'ok' ? 'ok' : 'failed']));
}
