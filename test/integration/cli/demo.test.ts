import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PassThrough } from 'node:stream';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProgressLine } from '../../../cli/demo/progress.js';
import { runDemo } from '../../../cli/demo/run.js';
import { DEMO_CUSTOMERS, SHIPMENT_STATUS } from '../../../cli/demo/erp/schema.js';
import { createKafka } from '../../../runtime/kafka/index.js';
import { requireEnv } from '../env.js';

/**
 * `erpstream demo` as users run it (a child process, the real stack): a short run must prove that every
 * origin row reached its customer and the poison row its dead-letter topic, exit 0, and leave nothing behind.
 */

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function demo(args: string[], timeoutMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', 'demo', ...args], {
      cwd: REPO,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGINT'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

let admin: pg.Client;
const kafkaAdmin = createKafka({
  brokers: requireEnv('KAFKA_BROKERS'),
  clientId: 'demo-test',
  logLevel: 'error',
}).admin();

beforeAll(async () => {
  requireEnv('SCHEMA_REGISTRY_URL');
  admin = new pg.Client({ connectionString: requireEnv('PG_URL') });
  await admin.connect();
  await kafkaAdmin.connect();
});

afterAll(async () => {
  await admin?.end();
  await kafkaAdmin.disconnect();
});

async function leftovers(runId: string): Promise<{ topics: string[]; databases: string[]; subjects: string[] }> {
  const topics = (await kafkaAdmin.listTopics()).filter((t) => t.startsWith(`demo.${runId}.`));
  const databases = (
    await admin.query('SELECT datname FROM pg_database WHERE datname = $1', [`erpstream_demo_${runId}`])
  ).rows.map((r: { datname: string }) => r.datname);
  const res = await fetch(`${requireEnv('SCHEMA_REGISTRY_URL')}/subjects`);
  const subjects = ((await res.json()) as string[]).filter((s) => s.startsWith(`demo.${runId}.`));
  return { topics, databases, subjects };
}

describe('erpstream demo', () => {
  it('runs 20 s of ERP operations and proves nothing was lost (exit 0), then removes what it created', async () => {
    const started = Date.now();
    const run = await demo(['--duration', '20s', '-o', 'json'], 170_000);
    const elapsed = Date.now() - started;
    expect(run.code, `stderr:\n${run.stderr}\nstdout:\n${run.stdout}`).toBe(0);
    const summary = JSON.parse(run.stdout) as {
      runId: string;
      ok: boolean;
      rows: Array<{
        customer: string;
        entity: string;
        origin: number;
        delivered: number;
        missingCount: number;
        unexpectedCount: number;
        staleCount: number;
      }>;
      poison: Array<{ customer: string; id: string; inDlq: boolean; dlqTopic: string }>;
      unexpectedDlq: unknown[];
      samples: Array<{ customer: string; entity: string; id: string; value: string }>;
      sinkLag: number | null;
      originProblems: string[];
      races: { documentsBeforeRegistration: number; phonesBeforePersons: number };
      longTransaction: { committedAt: number | null; heldMs: number };
      peakParked: number;
    };
    expect(summary.ok).toBe(true);
    expect(summary.rows.map((r) => `${r.customer}/${r.entity}`).sort()).toEqual(
      ['acme', 'globex'].flatMap((c) => ['document', 'person', 'phone', 'shipment'].map((e) => `${c}/${e}`)).sort(),
    );
    for (const r of summary.rows) {
      expect(r.origin, `${r.customer}/${r.entity}`).toBeGreaterThan(0);
      expect(r.delivered, `${r.customer}/${r.entity}`).toBe(r.origin);
      expect(r.missingCount + r.unexpectedCount + r.staleCount).toBe(0);
    }
    // The races and the long transaction really happened, and the poison row went to globex's DLQ.
    expect(summary.races.documentsBeforeRegistration).toBeGreaterThan(0);
    expect(summary.races.phonesBeforePersons).toBeGreaterThan(0);
    expect(summary.longTransaction.committedAt).not.toBeNull();
    // Rows really waited: documents for their registration, phones for their person.
    expect(summary.peakParked).toBeGreaterThan(0);
    expect(summary.poison).toHaveLength(1);
    expect(summary.poison[0]).toMatchObject({
      customer: 'globex',
      inDlq: true,
      dlqTopic: `demo.${summary.runId}.globex.errors`,
    });
    expect(summary.unexpectedDlq).toEqual([]);
    expect(summary.originProblems).toEqual([]);
    // Customers receive the rows their integration's clean and translate sections shaped: readable names,
    // J/N as booleans, exact decimals, status codes translated.
    expect(summary.samples.map((x) => `${x.customer}/${x.entity}`).sort()).toEqual(
      summary.rows.map((r) => `${r.customer}/${r.entity}`).sort(),
    );
    for (const x of summary.samples) {
      const row = JSON.parse(x.value) as Record<string, unknown>;
      expect(
        Object.keys(row).filter((k) => !/^[a-z][A-Za-z0-9]*$/.test(k)),
        `${x.customer}/${x.entity}`,
      ).toEqual([]);
      if (x.entity !== 'shipment') continue;
      const code = DEMO_CUSTOMERS.find((c) => c.domain === x.customer)?.code;
      expect(row).toMatchObject({ shpmtNo: x.id, custCd: code });
      expect(row.activeFlg).toBeTypeOf('boolean');
      expect(row.netAmt).toMatch(/^-?\d+\.\d{2}$/);
      expect(Object.values(SHIPMENT_STATUS)).toContain(row.statCd);
    }
    // Every sink committed past its shared input topics, other customers' records included.
    expect(summary.sinkLag).toBe(0);
    // The narrative (stderr with -o json) says what it used and what it cleaned up.
    expect(run.stderr).toContain('answer: using them');
    expect(run.stderr).toContain('ERP database: PostgreSQL');
    expect(run.stderr).toMatch(/Operations console: http:\/\/127\.0\.0\.1:\d+\/console\//);
    expect(run.stderr).toContain('reach the connectors as ${file:…} references');
    expect(run.stderr).toMatch(/Deleted \d+ topics, \d+ consumer groups and \d+ schema subjects/);
    expect(run.stderr).toContain('The stack was already running and keeps running.');
    expect(run.stderr).toMatch(
      /\[operating \d+s\/20s\].*captured \d+.*delivered \d+\/\d+.*parked \d+.*DLQ \d+.*lag \d+/,
    );
    expect(await leftovers(summary.runId)).toEqual({ topics: [], databases: [], subjects: [] });
    expect(elapsed).toBeLessThan(120_000);
  }, 180_000);

  it('exits 2 on invalid integration files and still drops the database it created', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'demo-bad-integrations-'));
    try {
      await cp(join(REPO, 'examples', 'integrations'), dir, { recursive: true });
      await writeFile(
        join(dir, 'acme.yaml'),
        'apiVersion: erpstream/v1\nkind: Integration\nextends: ./base.yaml\nmetadata:\n  name: Not_Valid\n',
      );
      const run = await demo(['--duration', '5s', '--integrations', dir], 60_000);
      expect(run.code, run.stderr + run.stdout).toBe(2);
      expect(run.stderr).toContain('not valid');
      const runId = /Demo run (\w+)/.exec(run.stdout)?.[1];
      expect(runId).toBeDefined();
      expect(run.stdout).toContain(`Dropped database erpstream_demo_${runId}`);
      expect(await leftovers(runId!)).toEqual({ topics: [], databases: [], subjects: [] });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it('starts the stack when Kafka does not answer, and stops it again at the end (no --keep)', async () => {
    // A stand-in for scripts/stack: Kafka "answers" only after `up`; `down` leaves a mark.
    const dir = await mkdtemp(join(tmpdir(), 'demo-fake-stack-'));
    const script = join(dir, 'stack');
    await writeFile(
      script,
      `#!/usr/bin/env bash
d="$(dirname "$0")"
case "$1" in
  env)
    if [ -f "$d/up" ]; then
      echo "export KAFKA_BROKERS=${requireEnv('KAFKA_BROKERS')}"
      echo "export SCHEMA_REGISTRY_URL=${requireEnv('SCHEMA_REGISTRY_URL')}"
    else
      echo "export KAFKA_BROKERS=127.0.0.1:1"
      echo "export SCHEMA_REGISTRY_URL=http://127.0.0.1:1"
    fi
    echo "export PG_URL=${requireEnv('PG_URL')}" ;;
  up) echo "[stack] kafka up (fake)" >&2; touch "$d/up" ;;
  down) touch "$d/down" ;;
esac
`,
    );
    await chmod(script, 0o755);
    const lines: string[] = [];
    const progressOut = new PassThrough();
    progressOut.resume();
    try {
      const result = await runDemo({
        durationMs: 6000,
        keep: false,
        format: 'json',
        env: {},
        log: (l) => lines.push(l),
        progress: new ProgressLine(progressOut),
        stackScript: script,
        settleTimeoutMs: 45_000,
      });
      const text = lines.join('\n');
      expect(text).toContain('starting the local stack (scripts/stack up');
      expect(text).toContain('  [stack] kafka up (fake)');
      expect(text).toContain('Local stack started');
      expect(text).toContain('Stopping the local stack the demo started');
      expect(existsSync(join(dir, 'down'))).toBe(true);
      expect(result.summary?.ok, text).toBe(true);
      expect(await leftovers(result.runId)).toEqual({ topics: [], databases: [], subjects: [] });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
