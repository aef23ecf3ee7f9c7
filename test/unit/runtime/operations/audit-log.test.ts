import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { MemoryOperationsLog, newOperationId, selectOperations } from '../../../../runtime/operations/audit-log.js';
import { requestPrincipal } from '../../../../runtime/rest/principal.js';

const req = (headers: Record<string, string>, remoteAddress = '127.0.0.1') =>
  ({ headers, socket: { remoteAddress } }) as unknown as IncomingMessage;

describe('operations audit log', () => {
  it('ids sort by start time', () => {
    expect(newOperationId(1000) < newOperationId(2000)).toBe(true);
    expect(newOperationId(1000)).not.toBe(newOperationId(1000));
  });

  it('filters by customer, connector and kind, newest first, bounded', async () => {
    const log = new MemoryOperationsLog('w:1');
    const a = await log.begin({ kind: 'repair', customer: 'acme', connector: 'acme-sink', who: 'u' });
    await new Promise((r) => setTimeout(r, 2));
    const b = await log.record({ kind: 'replay', customer: 'acme', who: 'u', result: 'succeeded' });
    await log.record({ kind: 'replay', customer: 'globex', who: 'u', result: 'failed', message: 'boom' });
    expect((await log.list({ customer: 'acme' })).map((e) => e.id)).toEqual([b.id, a.id]);
    expect((await log.list({ kind: 'repair' })).map((e) => e.id)).toEqual([a.id]);
    expect((await log.list({ connector: 'acme-sink' })).map((e) => e.id)).toEqual([a.id]);
    expect(await log.list({ limit: 1 })).toHaveLength(1);
    expect(selectOperations([], { limit: 1e9 })).toEqual([]);
    const p = await log.progress(a.id, { delivered: 1 });
    expect(p.counts).toEqual({ delivered: 1 });
    const f = await log.finish(a.id, { result: 'succeeded', counts: { withdrawn: 2 } });
    expect(f).toMatchObject({ result: 'succeeded', counts: { delivered: 1, withdrawn: 2 }, worker: 'w:1' });
    await expect(log.finish('nope', { result: 'failed' })).rejects.toThrow(/Unknown operation/);
  });

  it('who: the authenticated principal, else what the CLI says, never unbounded or unprintable', () => {
    expect(requestPrincipal(req({}), undefined)).toBe('anonymous@127.0.0.1');
    expect(requestPrincipal(req({ 'x-erpstream-user': 'bob@laptop' }), undefined)).toBe('bob@laptop');
    expect(
      requestPrincipal(req({ 'x-erpstream-user': 'bob@laptop' }), { type: 'basic', username: 'ops', password: 'p' }),
    ).toBe('ops (bob@laptop)');
    expect(requestPrincipal(req({}), { type: 'bearer', token: 't' })).toBe('bearer');
    expect(requestPrincipal(req({ 'x-erpstream-user': `a\u0000\nb${'x'.repeat(500)}` }), undefined)).toHaveLength(200);
  });
});
