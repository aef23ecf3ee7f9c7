import { EventEmitter } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keepServingOnUncaughtErrors } from '../../../../runtime/logging/last-resort.js';
import { JsonLogger, LogLevelRegistry } from '../../../../runtime/logging/index.js';
import { rawHttp, rawRequest } from '../../../support/raw-http.js';
import { type Harness, startHarness } from '../worker/harness.js';

/** The requests that ended the process before (issue 19): `new URL` threw before the handler's `try`. */
const KILLERS = ['//%00', '//#', '//%zz/x', '//a%20b/x'];
const BASIC = `Basic ${Buffer.from('admin:s3cret').toString('base64')}`;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    'rest.auth.type': 'basic',
    'rest.auth.basic.username': 'admin',
    'rest.auth.basic.password': 's3cret',
  });
});
afterAll(async () => {
  await h.worker.stop();
});

async function stillServing(): Promise<void> {
  const r = await rawRequest(h.url, rawHttp('GET', '/connectors', { authorization: BASIC }));
  expect(r.status).toBe(200);
  expect(r.json).toEqual([]);
}

describe('no request can stop the worker', () => {
  it.each(KILLERS)('without credentials, %s is refused with 401 before its path is looked at', async (target) => {
    const r = await rawRequest(h.url, rawHttp('GET', target));
    expect(r.status).toBe(401);
    expect(r.json).toEqual({ error_code: 401, message: 'Unauthorized' });
    await stillServing();
  });

  it.each(KILLERS)('with credentials, %s gets a JSON error answer and the worker keeps serving', async (target) => {
    const r = await rawRequest(h.url, rawHttp('GET', target, { authorization: BASIC }));
    expect([400, 404]).toContain(r.status);
    expect(r.json).toEqual({ error_code: r.status, message: expect.any(String) });
    await stillServing();
  });

  it('requests the HTTP parser refuses get a JSON answer (405 for an unknown method, 400 otherwise)', async () => {
    const unknownMethod = await rawRequest(h.url, rawHttp('FOO', '/connectors', { authorization: BASIC }));
    expect(unknownMethod.status).toBe(405);
    expect(unknownMethod.json).toEqual({ error_code: 405, message: 'HTTP 405 Method Not Allowed' });
    const badHeader = await rawRequest(h.url, 'GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n');
    expect(badHeader.status).toBe(400);
    expect(badHeader.json).toMatchObject({ error_code: 400 });
    const garbage = await rawRequest(h.url, Buffer.from([0, 1, 2, 255, 13, 10, 13, 10]));
    expect([400, 405]).toContain(garbage.status);
    expect(garbage.json).toMatchObject({ error_code: garbage.status });
    await stillServing();
  });

  it('a client that hangs up mid-body does not disturb the worker', async () => {
    const { connect } = await import('node:net');
    const u = new URL(h.url);
    await new Promise<void>((resolve) => {
      const s = connect(Number(u.port), u.hostname, () => {
        s.write(
          'POST /connectors HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
            `Authorization: ${BASIC}\r\nContent-Length: 1000\r\n\r\n{"name":`,
        );
        setImmediate(() => s.destroy());
      });
      s.on('close', () => resolve());
    });
    await stillServing();
  });
});

describe('process-level last resort', () => {
  it('logs an uncaught exception or rejection (secrets hidden) instead of letting it end the process', () => {
    const events = new EventEmitter();
    const proc = events as unknown as NodeJS.Process;
    const lines: string[] = [];
    const logger = new JsonLogger({ name: 'w', registry: new LogLevelRegistry('INFO'), sink: (l) => lines.push(l) });
    const remove = keepServingOnUncaughtErrors(logger, proc);
    events.emit('uncaughtException', new Error('boom'));
    events.emit('unhandledRejection', Object.assign(new Error('later'), { password: 'hunter2' }));
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual([
      'Uncaught exception; the worker keeps serving',
      'Unhandled promise rejection; the worker keeps serving',
    ]);
    expect(lines.join('\n')).not.toContain('hunter2');
    remove();
    expect(events.listenerCount('uncaughtException')).toBe(0);
  });
});
