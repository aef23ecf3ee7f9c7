import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningWorker } from '../../../runtime/worker/standalone.js';
import { requireEnv, uniqueSuffix } from '../env.js';
import { KNOWN_DIFFERENCES, type StepResult, differences, runConformance } from './conformance.js';
import { startTestWorker } from '../test-worker.js';

/**
 * The same REST conformance run against real Apache Kafka Connect 3.9 (CONNECT_URL, started by
 * `scripts/stack up --with-connect`) and against our worker, compared step by step: every status code and
 * every normalized body must match, except the deliberate deviations listed in docs/worker.md.
 */
describe('REST interoperability: erpstream worker vs Apache Kafka Connect 3.9', () => {
  let ours: RunningWorker;
  let connect: StepResult[];
  let erpstream: StepResult[];

  beforeAll(async () => {
    const connectUrl = requireEnv('CONNECT_URL').replace(/\/$/, '');
    ({ worker: ours } = await startTestWorker('interop'));
    connect = await runConformance(connectUrl, `it-interop-connect-${uniqueSuffix()}`);
    erpstream = await runConformance(ours.url, `it-interop-ours-${uniqueSuffix()}`);
  });
  afterAll(async () => {
    await ours?.stop();
  });

  it('runs the same steps on both', () => {
    expect(erpstream.map((r) => r.step)).toEqual(connect.map((r) => r.step));
  });

  it('differs from Connect only where we chose to (every other status and body is the same)', () => {
    const diffs = differences(connect, erpstream);
    const unexpected = diffs.filter((d) => ![...KNOWN_DIFFERENCES].some((k) => d.startsWith(`${k}:`)));
    expect(unexpected).toEqual([]);
  });
});
