import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningWorker } from '../../../runtime/launch/standalone.js';
import { requireEnv, uniqueSuffix } from '../env.js';
import { KNOWN_DIFFERENCES, type StepResult, differences, runConformance } from './conformance.js';
import { startTestWorker } from '../test-worker.js';

/**
 * The same REST conformance run against the stack's real Apache Kafka Connect (CONNECT_URL, started by
 * `scripts/stack up --with-connect`; 3.9 or 4.x) and against our worker, compared step by step: every status code
 * and every normalized body must match, except the deliberate deviations listed in docs/worker.md. We speak
 * Connect 4.x's REST: against a 3.9 Connect, the status `version` fields 3.9 does not have are left out of ours.
 */

/** Jetty 12 (Connect 4.x) refuses ambiguous URIs with 400 before routing; we answer as Connect 3.9 did (404s). */
const JETTY12_PATH_STEPS = [
  'encoded dot-dot segment',
  'double slash authority',
  'double trailing slash',
  'encoded slash in a name',
  'double-encoded name',
  'invalid UTF-8 name',
  'get ".." encoded',
  // Connect 4.3.2 answered this plain ".." path 200 in earlier runs and 500 in one CI run on a fresh Connect: not a
  // stable answer to compare with; ours is 200, as Connect 3.9's (rest-conformance.test.ts pins it)
  'get ".." plain',
  'delete ".."',
  '".." deleted',
  // so a ".." connector an earlier run created on the same Connect cannot be deleted, and creating it again is 409
  'create ".."',
];

/** Drops `version` from status entries (objects with a worker_id), which Connect 3.9 does not have. */
function withoutStatusVersions(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutStatusVersions);
  if (v === null || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries(o)
      .filter(([k]) => !(k === 'version' && 'worker_id' in o))
      .map(([k, x]) => [k, withoutStatusVersions(x)]),
  );
}

describe("REST interoperability: erpstream worker vs Apache Kafka Connect (the stack's version)", () => {
  let ours: RunningWorker;
  let connect: StepResult[];
  let erpstream: StepResult[];
  let connectMajor = 0;

  beforeAll(async () => {
    const connectUrl = requireEnv('CONNECT_URL').replace(/\/$/, '');
    ({ worker: ours } = await startTestWorker('interop'));
    connectMajor = Number(
      ((await (await fetch(`${connectUrl}/`)).json()) as { version: string }).version.split('.')[0],
    );
    connect = await runConformance(connectUrl, `it-interop-connect-${uniqueSuffix()}`);
    erpstream = await runConformance(ours.url, `it-interop-ours-${uniqueSuffix()}`);
    if (connectMajor < 4) erpstream = erpstream.map((r) => ({ ...r, body: withoutStatusVersions(r.body) }));
  });
  afterAll(async () => {
    await ours?.stop();
  });

  it('runs the same steps on both', () => {
    expect(erpstream.map((r) => r.step)).toEqual(connect.map((r) => r.step));
  });

  it('differs from Connect only where we chose to (every other status and body is the same)', () => {
    const diffs = differences(connect, erpstream);
    const known = [...KNOWN_DIFFERENCES, ...(connectMajor >= 4 ? JETTY12_PATH_STEPS : [])];
    const unexpected = diffs.filter((d) => !known.some((k) => d.startsWith(`${k}:`)));
    expect(unexpected).toEqual([]);
  });
});
