import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../worker/harness.js';

// The reconcile endpoint's refusals, on a worker with an in-memory Kafka and operations log: nothing here reaches a
// broker or a database.
let h: Harness;
const path = (c: string) => `/erpstream/v1/integrations/${c}/reconcile`;

beforeAll(async () => {
  h = await startHarness();
  // A customer whose only connector cannot be reconciled, and one whose LookupSink query cannot be widened.
  await h.req('POST', '/connectors', {
    name: 'files-source',
    config: { 'connector.class': 'FileStreamSource', file: '/dev/null', topic: 't', 'erpstream.integration': 'files' },
    initial_state: 'STOPPED',
  });
  await h.req('POST', '/connectors', {
    name: 'odd-sink',
    config: {
      'connector.class': 'LookupSink',
      'erpstream.integration': 'odd',
      topics: 't',
      'lookup.connection.url': 'postgresql://nobody:s3cr3t-pw@127.0.0.1:1/none',
      'lookup.query': 'SELECT * FROM f(:ids)',
      'lookup.key.columns': 'id',
      'entity.name': 'doc',
      'destination.type': 'kafka',
      'destination.topic': 'odd.docs',
    },
    initial_state: 'STOPPED',
  });
});
afterAll(async () => {
  await h.worker.stop();
});

describe('POST /erpstream/v1/integrations/{customer}/reconcile', () => {
  it('refuses names that are not an integration name, in the Connect error shape', async () => {
    for (const name of ['..x', '..%2Fadmin', 'a%20b', `${'x'.repeat(201)}`, '%00', 'caf%C3%A9']) {
      const r = await h.req('POST', path(name), {});
      expect(r.status, name).toBe(400);
      expect(r.body).toEqual({
        error_code: 400,
        message: expect.stringMatching(/^Invalid customer name|NUL in the path/),
      });
    }
  });

  it('answers 404 for a customer no connector belongs to, 400 when none can be reconciled', async () => {
    expect(await h.req('POST', path('nobody'), {})).toMatchObject({
      status: 404,
      body: { error_code: 404, message: expect.stringMatching(/No connector belongs to customer nobody/) },
    });
    expect(await h.req('POST', path('files'), {})).toMatchObject({
      status: 400,
      body: { message: expect.stringMatching(/has no connector that can be reconciled \(files-source\)/) },
    });
  });

  it('refuses a bad body field by field', async () => {
    for (const body of [
      { sample: 'ten' },
      { sample: -1 },
      { sample: 1001 },
      { repair: 'yes' },
      { wait: 1 },
      { x: 1 },
      [],
    ]) {
      const r = await h.req('POST', path('odd'), body);
      expect(r.status, JSON.stringify(body)).toBe(400);
    }
  });

  it('names lookup.query when it cannot be widened, before connecting, and never repeats the password', async () => {
    const r = await h.req('POST', path('odd'), {});
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/Reconcile of connector odd-sink failed: .*lookup\.query/);
    expect(JSON.stringify(r.body)).not.toContain('s3cr3t-pw');
    // A reconcile that ran is an operation also when it failed; refused requests (the tests above) are not.
    const ops = await h.req('GET', '/erpstream/v1/operations');
    expect(ops.body.operations).toEqual([
      expect.objectContaining({ kind: 'reconcile', customer: 'odd', result: 'failed', message: expect.any(String) }),
    ]);
    expect(JSON.stringify(ops.body)).not.toContain('s3cr3t-pw');
  });
});
