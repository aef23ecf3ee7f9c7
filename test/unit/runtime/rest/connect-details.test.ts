import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../worker/harness.js';

/** Connect 3.9.1's answers, recorded from the stack's Connect with the same requests (issue 19, item 4). */
let h: Harness;
let input: string;
beforeAll(async () => {
  h = await startHarness();
  input = path.join(h.dir, 'in.txt');
  await writeFile(input, 'x\n');
});
afterAll(async () => {
  await h.worker.stop();
});

const validate = async (config: Record<string, unknown>) =>
  (await h.req('PUT', '/connector-plugins/FileStreamSource/config/validate', { name: 'v', topic: 't', ...config }))
    .body as { error_count: number; configs: Array<{ value: { name: string; value: unknown; errors: string[] } }> };
const errorsOf = (infos: Awaited<ReturnType<typeof validate>>) =>
  Object.fromEntries(infos.configs.filter((c) => c.value.errors.length > 0).map((c) => [c.value.name, c.value.errors]));

describe('null values, as Connect', () => {
  it("a null for one of the connector's own keys is accepted and stored as null", async () => {
    const config = { 'connector.class': 'FileStreamSource', topic: 'n', file: null };
    const r = await h.req('POST', '/connectors', { name: 'nulls', config });
    expect(r.status).toBe(201);
    expect((await h.req('GET', '/connectors/nulls/config')).body).toEqual({ ...config, name: 'nulls' });
    expect((await validate({ 'connector.class': 'FileStreamSource', file: null })).error_count).toBe(0);
    const put = await h.req('PUT', '/connectors/nulls/config', { ...config, file: input });
    expect(put.status).toBe(200);
  });
  it('a null for any other key is one error, named by the key (undeclared keys are listed)', async () => {
    const undeclared = await validate({ 'connector.class': 'FileStreamSource', key: null });
    expect(undeclared.error_count).toBe(1);
    expect(errorsOf(undeclared)).toEqual({ key: ['Null value can not be supplied as the configuration value.'] });
    const framework = await validate({ 'connector.class': 'FileStreamSource', 'tasks.max': null });
    expect(framework.error_count).toBe(2);
    expect(errorsOf(framework)['tasks.max']).toEqual([
      'Invalid value null for configuration tasks.max: Value must be non-null',
      'Null value can not be supplied as the configuration value.',
    ]);
    const created = await h.req('POST', '/connectors', {
      name: 'nulls-bad',
      config: { 'connector.class': 'FileStreamSource', topic: 'n', key: null },
    });
    expect(created.status).toBe(400);
  });
});

describe('validation error counts for unparsable values, as Connect', () => {
  it('an unparsable value is shown as null and validated as null too (two errors for a ranged key)', async () => {
    const infos = await validate({
      'connector.class': 'FileStreamSource',
      'tasks.max': 'abc',
      'errors.retry.timeout': 'zz',
      'batch.size': 'q',
    });
    expect(infos.error_count).toBe(4);
    expect(errorsOf(infos)['tasks.max']).toEqual([
      'Invalid value abc for configuration tasks.max: Not a number of type INT',
      'Invalid value null for configuration tasks.max: Value must be non-null',
    ]);
    expect(infos.configs.find((c) => c.value.name === 'tasks.max')!.value.value).toBeNull();
  });
});

describe('authentication scheme names are case-insensitive (RFC 7235)', () => {
  it.each([
    ['basic', { 'rest.auth.type': 'basic', 'rest.auth.basic.username': 'u', 'rest.auth.basic.password': 'p' }],
    ['bearer', { 'rest.auth.type': 'bearer', 'rest.auth.bearer.token': 'tok' }],
  ])('%s', async (type, config) => {
    const a = await startHarness(config);
    try {
      const credentials = type === 'basic' ? Buffer.from('u:p').toString('base64') : 'tok';
      for (const scheme of [type, type.toUpperCase(), type[0]!.toUpperCase() + type.slice(1)]) {
        expect(
          (await a.req('GET', '/connectors', undefined, { authorization: `${scheme} ${credentials}` })).status,
        ).toBe(200);
      }
      expect((await a.req('GET', '/connectors', undefined, { authorization: `${type} ${credentials}x` })).status).toBe(
        401,
      );
      expect((await a.req('GET', '/connectors', undefined, { authorization: `${type} ${credentials} x` })).status).toBe(
        401,
      );
      expect((await a.req('GET', '/connectors', undefined, { authorization: credentials })).status).toBe(401);
    } finally {
      await a.worker.stop();
    }
  });
});
