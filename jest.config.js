/*
 * The whole suite runs twice: once on embedded SQLite and once on PostgreSQL
 * (each test file gets its own database or schema, and its own Redis prefix).
 */
const base = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
  testMatch: ['<rootDir>/tests/**/*.test.ts'],
};

export default {
  testTimeout: 20000,
  projects: [
    { ...base, displayName: 'sqlite', setupFiles: ['<rootDir>/tests/setup/sqlite.cjs'] },
    { ...base, displayName: 'postgres', setupFiles: ['<rootDir>/tests/setup/postgres.cjs'] },
  ],
};
