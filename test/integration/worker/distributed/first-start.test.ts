import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createKafka, ensureTopics } from '../../../../runtime/kafka/index.js';
import { spawn } from 'node:child_process';
import { erpstreamCommand } from '../../../support/erpstream-cli.js';
import { requireEnv, uniqueSuffix } from '../../env.js';
import { clusterProps, rest, startWorker, stopWorker, waitFor, writeProps } from './cluster.js';

const brokers = requireEnv('KAFKA_BROKERS');
/** Rounds of "three workers started at once on a never-used group"; ERPSTREAM_FIRST_START_RUNS scales it up. */
const rounds = Math.max(1, Number(process.env.ERPSTREAM_FIRST_START_RUNS ?? 2));

/** The worker group's members as the group coordinator sees them. */
async function groupMembers(groupId: string): Promise<{ state: string; members: number }> {
  const kafka = createKafka({ brokers, clientId: 'it-first-start', logLevel: 'nothing' });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([groupId]);
    return { state: groups[0]?.state ?? 'Dead', members: groups[0]?.members.length ?? 0 };
  } finally {
    await admin.disconnect();
  }
}

/**
 * Runs `erpstream worker start <props>` expecting it to fail: resolves with its exit code and output once it exits;
 * a worker that is still alive after timeoutMs (the hang of issue 20 item 3) is killed and reported as such.
 */
function failedStart(props: string, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  const cli = erpstreamCommand('worker', 'start', props);
  const proc = spawn(cli.command, cli.args, { cwd: cli.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout.on('data', (b: Buffer) => (output += b.toString()));
  proc.stderr.on('data', (b: Buffer) => (output += b.toString()));
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      output += `\n[test] still running after ${timeoutMs} ms: killed`;
    }, timeoutMs);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('distributed workers: first start on a never-used group', () => {
  it(
    `three workers started at the same moment all start, serve REST and join the group (${rounds} rounds)`,
    async () => {
      for (let round = 0; round < rounds; round++) {
        const suffix = uniqueSuffix();
        const dir = await mkdtemp(path.join(os.tmpdir(), 'erpstream-it-first-'));
        const props = await writeProps(path.join(dir, 'worker.properties'), clusterProps(brokers, suffix));
        const started = await Promise.allSettled([startWorker(props), startWorker(props), startWorker(props)]);
        const workers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
        try {
          const failures = started.flatMap((s) => (s.status === 'rejected' ? [String(s.reason)] : []));
          expect(failures, `round ${round}`).toEqual([]);
          for (const w of workers) expect((await rest(w.url, 'GET', '/connectors')).status).toBe(200);
          // All three are members of one stable generation.
          await waitFor(
            async () => {
              const g = await groupMembers(`it-dist-${suffix}`);
              return g.state === 'Stable' && g.members === 3;
            },
            60_000,
            `3 members in a stable group (round ${round})`,
          );
          // And each one follows the shared config topic: a connector created on one is listed by all.
          const name = `first-${suffix}`;
          const created = await rest(workers[0]!.url, 'POST', '/connectors', {
            name,
            config: {
              'connector.class': 'erpstream.connectors.SequenceSourceConnector',
              'tasks.max': '1',
              topic: `it-first-${suffix}`,
            },
          });
          expect([201, 409]).toContain(created.status);
          for (const w of workers) {
            await waitFor(
              async () => ((await rest<string[]>(w.url, 'GET', '/connectors')).body ?? []).includes(name),
              30_000,
              `${name} listed by ${w.url}`,
            );
          }
        } finally {
          await Promise.all(workers.map((w) => stopWorker(w)));
        }
      }
    },
    240_000 * rounds,
  );

  it('a start that cannot succeed exits non-zero with a clear message instead of hanging without REST', async () => {
    const suffix = uniqueSuffix();
    // A config topic that is not compacted: Connect refuses to start (KAFKA-9216), so must we, and exit.
    const kafka = createKafka({ brokers, clientId: 'it-first-start', logLevel: 'nothing' });
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic: `it-dist-${suffix}-configs`, configs: { 'cleanup.policy': 'delete' } }]);
    await admin.disconnect();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'erpstream-it-first-'));
    const props = await writeProps(path.join(dir, 'worker.properties'), clusterProps(brokers, suffix));
    const { code, output } = await failedStart(props, 90_000);
    expect(output).not.toMatch(/worker\.started/);
    expect(output).toMatch(/cleanup\.policy=compact/);
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
  }, 120_000);

  it('a broker that cannot be reached within worker.startup.timeout.ms: exit non-zero, naming the brokers', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'erpstream-it-first-'));
    const props = await writeProps(
      path.join(dir, 'worker.properties'),
      clusterProps('127.0.0.1:1', uniqueSuffix(), { 'worker.startup.timeout.ms': '3000' }),
    );
    const { code, output } = await failedStart(props, 90_000);
    expect(output).not.toMatch(/worker\.started/);
    expect(output).toMatch(/127\.0\.0\.1:1/);
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
  }, 150_000);
});
