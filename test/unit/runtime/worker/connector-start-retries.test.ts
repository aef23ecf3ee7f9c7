import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataError, RetriableError } from '../../../../runtime/api/index.js';
import { ConnectorStartRetries } from '../../../../runtime/worker/connector-start-retries.js';
import { waitFor } from './fake-kafka.js';
import { type Harness, startHarness } from './harness.js';
import { control, testRegistry } from './test-plugins.js';

/**
 * A connector whose start() meets an outage (the ErpSource lists its tables when it starts: a worker restarted while
 * the database is down) is started again by the herder, RESTARTING meanwhile, instead of FAILED until someone
 * restarts it; a start failing for any other reason, or an outage outlasting outage.wait.timeout.ms, is FAILED.
 */

const databaseDown = () =>
  new RetriableError('Connecting to PostgreSQL: database connection problem (ECONNREFUSED): connect ECONNREFUSED');

describe('ConnectorStartRetries', () => {
  it('retries a start that failed on a retriable error (also wrapped), with a backoff of at most 5 s', () => {
    const r = new ConnectorStartRetries();
    const first = r.failed('c', databaseDown(), 60_000, 1_000);
    expect(first).toEqual({ retry: true, what: "the connector's database or service", delayMs: 500 });
    const wrapped = new DataError('Listing tables failed', undefined, { cause: databaseDown() });
    const later = r.failed('c', wrapped, 60_000, 31_000);
    expect(later).toMatchObject({ retry: true, delayMs: 5_000 });
    r.close();
  });

  it('fails a start that waiting cannot fix, and one whose outage outlasted the wait, saying what it waited for', () => {
    const r = new ConnectorStartRetries();
    const bug = new DataError('No table matches table.include.list');
    expect(r.failed('c', bug, 60_000, 0)).toEqual({ retry: false, error: bug });
    expect(r.failed('d', databaseDown(), 10_000, 0).retry).toBe(true);
    const over = r.failed('d', databaseDown(), 10_000, 10_001);
    expect(over.retry).toBe(false);
    expect(String((over as { error: Error }).error.message)).toMatch(/Gave up waiting for the connector's database/);
    // forget() ends the outage: a later failure starts a new wait.
    r.forget('d');
    expect(r.failed('d', databaseDown(), 10_000, 50_000).retry).toBe(true);
    r.close();
  });
});

describe('a connector whose start() meets an outage (standalone herder)', () => {
  let h: Harness;
  beforeEach(() => {
    control.failConnectorStart = null;
    control.connectorStarts = 0;
  });
  afterEach(async () => {
    control.failConnectorStart = null;
    await h?.worker.stop();
  });
  const status = async () =>
    (await h.req('GET', '/connectors/c/status')).body as {
      connector: { state: string; trace?: string };
      tasks: Array<{ state: string }>;
    };

  it('is RESTARTING while its start fails retriably, then RUNNING with its tasks, without anyone restarting it', async () => {
    h = await startHarness({}, { registry: testRegistry() });
    control.failConnectorStart = databaseDown;
    const created = await h.req('POST', '/connectors', { name: 'c', config: { 'connector.class': 'FlakySource' } });
    expect(created.status).toBe(201);
    await waitFor(() => control.connectorStarts >= 2, 5_000, 'a second start');
    const waiting = await status();
    expect(waiting.connector.state).toBe('RESTARTING');
    expect(waiting.connector.trace).toContain('ECONNREFUSED');
    control.failConnectorStart = null;
    await waitFor(
      async () => {
        const s = await status();
        return s.connector.state === 'RUNNING' && s.tasks.length === 1 && s.tasks[0]!.state === 'RUNNING';
      },
      10_000,
      'connector and task RUNNING',
    );
  });

  it('is FAILED at once when its start fails for a reason waiting cannot fix', async () => {
    h = await startHarness({}, { registry: testRegistry() });
    control.failConnectorStart = () => new DataError('No table matches table.include.list');
    await h.req('POST', '/connectors', { name: 'c', config: { 'connector.class': 'FlakySource' } });
    await waitFor(async () => (await status()).connector.state === 'FAILED', 5_000, 'FAILED');
    await new Promise((r) => setTimeout(r, 800));
    expect(control.connectorStarts).toBe(1);
  });

  it('is FAILED once the outage outlasts outage.wait.timeout.ms; deleted while waiting, it is not started again', async () => {
    h = await startHarness({ 'outage.wait.timeout.ms': '1200' }, { registry: testRegistry() });
    control.failConnectorStart = databaseDown;
    await h.req('POST', '/connectors', { name: 'c', config: { 'connector.class': 'FlakySource' } });
    await waitFor(async () => (await status()).connector.state === 'FAILED', 10_000, 'FAILED after the wait');
    expect((await status()).connector.trace).toMatch(/Gave up waiting for the connector's database or service/);

    await h.req('POST', '/connectors', {
      name: 'd',
      config: { 'connector.class': 'FlakySource', 'outage.wait.timeout.ms': '-1' },
    });
    await waitFor(() => control.connectorStarts >= 2 + 2, 5_000, 'd tried twice');
    expect((await h.req('DELETE', '/connectors/d')).status).toBe(204);
    const after = control.connectorStarts;
    await new Promise((r) => setTimeout(r, 2_500));
    expect(control.connectorStarts).toBe(after);
  });
});

describe('a source task whose start() meets an outage (worker)', () => {
  let h: Harness;
  beforeEach(() => {
    control.failTaskStart = null;
    control.taskObjectsStarted = [];
  });
  afterEach(async () => {
    control.failTaskStart = null;
    await h?.worker.stop();
  });
  const status = async () =>
    (await h.req('GET', '/connectors/c/status')).body as {
      tasks: Array<{ state: string; trace?: string; waiting?: { for: string } }>;
    };

  it('is started again as a new task object, waiting for the source system meanwhile, then runs', async () => {
    h = await startHarness({}, { registry: testRegistry() });
    control.failTaskStart = databaseDown;
    await h.req('POST', '/connectors', { name: 'c', config: { 'connector.class': 'FlakySource', topic: 'out' } });
    await waitFor(() => control.taskObjectsStarted.length >= 2, 5_000, 'a second task object');
    await waitFor(
      async () => (await status()).tasks[0]?.waiting?.for === 'the source system',
      5_000,
      'waiting for the source system',
    );
    expect((await status()).tasks[0]!.state).toBe('RUNNING');
    control.failTaskStart = null;
    await waitFor(() => h.kafka.values('out').length >= 3, 10_000, 'records from the started task');
    expect((await status()).tasks[0]!.state).toBe('RUNNING');
    // Never a task object started twice: a failed start's object was stopped and replaced (a task is started once).
    expect(control.taskObjectsStarted.every((n) => n <= 1)).toBe(true);
  });

  it('is FAILED at once when its start fails for a reason waiting cannot fix', async () => {
    h = await startHarness({}, { registry: testRegistry() });
    control.failTaskStart = () => new DataError('Table s.t has no primary key');
    await h.req('POST', '/connectors', { name: 'c', config: { 'connector.class': 'FlakySource', topic: 'out' } });
    await waitFor(async () => (await status()).tasks[0]?.state === 'FAILED', 5_000, 'FAILED');
    await new Promise((r) => setTimeout(r, 800));
    expect(control.taskObjectsStarted).toEqual([1]);
  });
});
