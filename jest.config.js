/*
 * The whole suite runs twice: once on embedded SQLite and once on PostgreSQL
 * (each test file gets its own database or schema, and its own Redis prefix). The
 * tests of what is kept in the file store run a third time with the files in a bucket
 * of an S3-compatible server the project starts itself (tests/setup/s3-server.cjs).
 */
const base = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
  testMatch: ['<rootDir>/tests/**/*.test.ts'],
};

const storeDependent = ['attachments', 'newsrooms', 'storage', 'outage'].map((name) => `<rootDir>/tests/${name}.test.ts`);
/** Tests of the bucket itself (STORAGE_URL, storage:copy): in the s3 project only. */
const bucketOnly = ['<rootDir>/tests/storage.test.ts'];
/** The fleet (web and worker processes behind HAProxy): on PostgreSQL only, the database of a fleet. */
const postgresOnly = ['<rootDir>/tests/fleet.test.ts'];

export default {
  testTimeout: 20000,
  /*
   * Test files run one at a time in a worker process that is replaced once it holds more
   * than this after a file: each file's ESM modules stay in memory, and the whole run
   * (over 100 files across the three projects) in one process ran out of heap (4 GB).
   * Set, it also keeps a worker on a 2-core machine, where Jest would otherwise run the
   * files in its own process.
   */
  workerIdleMemoryLimit: '1GB',
  projects: [
    { ...base, displayName: 'sqlite', setupFiles: ['<rootDir>/tests/setup/sqlite.cjs'], testPathIgnorePatterns: [...bucketOnly, ...postgresOnly] },
    { ...base, displayName: 'postgres', setupFiles: ['<rootDir>/tests/setup/postgres.cjs'], testPathIgnorePatterns: bucketOnly },
    {
      ...base,
      displayName: 's3',
      testMatch: storeDependent,
      setupFiles: ['<rootDir>/tests/setup/s3.cjs'],
      globalSetup: '<rootDir>/tests/setup/s3-server.cjs',
      globalTeardown: '<rootDir>/tests/setup/s3-server-stop.cjs',
    },
  ],
};
