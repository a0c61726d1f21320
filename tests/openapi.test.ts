import { afterAll, describe, expect, it } from '@jest/globals';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { startTestApp } from './support/app.js';

const t = await startTestApp();
afterAll(() => t.close());
const doc = (await t.http.get('/api/openapi.json').expect(200)).body as {
  paths: Record<string, Record<string, { operationId?: string; security?: unknown[]; responses: Record<string, any> }>>;
};
const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
  Object.entries(item).map(([method, op]) => ({ label: `${method.toUpperCase()} ${path}`, op })),
);

describe('the OpenAPI document (issue 5)', () => {
  it('passes redocly lint (recommended rules) without errors', async () => {
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({ source: JSON.stringify(doc), absoluteRef: 'openapi.json', config });
    const errors = problems.filter((p) => p.severity === 'error').map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`);
    expect(errors).toEqual([]);
  });

  it('gives every operation a unique operationId and its security', () => {
    const ids = operations.map(({ op }) => op.operationId);
    expect(ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z0-9]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { label, op } of operations) expect([label, Array.isArray(op.security)]).toEqual([label, true]);
    expect(doc.paths['/api/releases/{id}']!.get!.security).toEqual([]);
    expect(doc.paths['/api/releases/{id}']!.patch!.security).toEqual([{ bearer: [] }]);
    expect(doc.paths['/healthz']!.get!.security).toEqual([]);
  });

  it('lists the 4xx answers of each route as problem+json', () => {
    const statuses = (path: string, method: string) =>
      Object.keys(doc.paths[path]![method]!.responses).filter((s) => s.startsWith('4'));
    expect(statuses('/api/releases/{id}', 'patch')).toEqual(expect.arrayContaining(['400', '401', '403', '404', '409', '413', '415', '422']));
    expect(statuses('/api/releases/{id}', 'get')).toEqual(expect.arrayContaining(['401', '404', '410']));
    expect(statuses('/api/releases/{id}/attachments', 'post')).toEqual(expect.arrayContaining(['401', '403', '404', '409', '413', '415', '422']));
    for (const { op } of operations) {
      for (const [status, response] of Object.entries(op.responses)) {
        if (status.startsWith('4')) expect(response.content['application/problem+json'].schema).toEqual({ $ref: '#/components/schemas/Problem' });
      }
    }
  });

  it('claims no email, pages or feeds', () => {
    const text = JSON.stringify(doc).toLowerCase();
    for (const claim of ['published as pages', 'feeds and email', 'subscriber email']) expect(text).not.toContain(claim);
  });
});
