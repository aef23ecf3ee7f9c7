import { type ChildProcess, spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ErpDatabase, createErpDatabase } from '../../../cli/demo/erp/database.js';
import { erpConnectionValues } from '../../../cli/demo/erp-connection.js';
import { createKafka } from '../../../runtime/kafka/index.js';
import { requireEnv, uniqueSuffix } from '../env.js';

/**
 * The first hour of a new user, scripted (issue 14): the README's install step, then docs/cli.md, docs/worker.md
 * and docs/integrations.md in order, typing `erpstream` as the docs do (the package's bin, as `npx erpstream`
 * runs it), including the mistakes new users make; each step asserts what the user should see. The worker runs
 * with the worst converters a worker may default to (String keys, JSON without schemas), which broke the
 * example integrations before the compiler pinned their format.
 */

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function erpstream(args: string[], env: NodeJS.ProcessEnv = {}, shell?: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = shell
      ? spawn('bash', ['-o', 'pipefail', '-c', shell], { cwd: REPO, env: { ...baseEnv, ...env } })
      : spawn(process.execPath, ['bin/erpstream.js', ...args], { cwd: REPO, env: { ...baseEnv, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const sfx = uniqueSuffix().replace(/_/g, '');
let brokers: string;
let home: string;
// The user's shell: no ERP_DB_* (the worker's environment is what matters), its own erpstream config file.
const baseEnv: NodeJS.ProcessEnv = {};
let db: ErpDatabase;
let files: string;
let worker: { child: ChildProcess; url: string } | undefined;

/** docs/worker.md's worker.properties, as the page shows it, with this run's broker, port and offsets file. */
async function workerPropertiesFromDocs(): Promise<string> {
  const doc = await readFile(join(REPO, 'docs/worker.md'), 'utf8');
  const block = /```properties\n(# worker\.properties[^`]*)```/.exec(doc)?.[1];
  if (!block) throw new Error('docs/worker.md no longer shows a worker.properties block');
  return block
    .replace(/^bootstrap\.servers=.*$/m, `bootstrap.servers=${brokers}`)
    .replace(/^listeners=.*$/m, 'listeners=http://127.0.0.1:0')
    .replace(/^offset\.storage\.file\.filename=.*$/m, `offset.storage.file.filename=${join(home, 'connect.offsets')}`)
    .replace(/^key\.converter=.*$/m, 'key.converter=org.apache.kafka.connect.storage.StringConverter')
    .replace(/^value\.converter\.schemas\.enable=.*$/m, 'value.converter.schemas.enable=false')
    .replace(/^key\.converter\.schemas\.enable=.*\n/m, '');
}

async function startWorker(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['bin/erpstream.js', 'worker', 'start', join(home, 'worker.properties')], {
    cwd: REPO,
    env: { ...baseEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /"event":"worker\.started","url":"([^"]+)"/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('close', (code) => reject(new Error(`worker exited ${code} before it started: ${err.slice(-2000)}`)));
  });
  return { child, url };
}

async function stopWorker(): Promise<void> {
  if (!worker) return;
  const { child } = worker;
  worker = undefined;
  const closed = new Promise((resolve) => child.once('close', resolve));
  child.kill('SIGTERM');
  await closed;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

beforeAll(async () => {
  brokers = requireEnv('KAFKA_BROKERS');
  const pgUrl = requireEnv('PG_URL');
  home = await mkdtemp(join(tmpdir(), 'erpstream-walk-'));
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[k] !== undefined) baseEnv[k] = process.env[k];
  Object.assign(baseEnv, { NO_COLOR: '1', ERPSTREAM_CONFIG: join(home, 'config.yaml'), npm_config_loglevel: 'error' });
  db = await createErpDatabase(pgUrl, `erpstream_walk_${sfx}`);
  // The example integrations, under this run's names, so their topics and consumer groups are its own.
  files = join(home, 'integrations');
  await cp(join(REPO, 'examples/integrations'), files, { recursive: true });
  for (const f of await readdir(files)) {
    const p = join(files, f);
    const text = (await readFile(p, 'utf8'))
      .replace(/^( {2}name: )erp$/m, `$1erp${sfx}`)
      .replace(/^( {2}topicPrefix: )erp$/m, `$1erp${sfx}`)
      .replace(/^( {2}name: )(acme|globex)$/m, `$1$2${sfx}`)
      .replace(/topic: globex\.errors/, `topic: globex${sfx}.errors`);
    await writeFile(p, text);
  }
  await writeFile(join(home, 'worker.properties'), await workerPropertiesFromDocs());
}, 120_000);

afterAll(async () => {
  await stopWorker();
  await db?.close({ drop: true });
  const kafka = createKafka({ brokers, clientId: `walk-${sfx}`, logLevel: 'nothing' });
  const admin = kafka.admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((t) => t.includes(sfx));
  if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
  if (home) await rm(home, { recursive: true, force: true });
}, 120_000);

describe('a new user, from the README to a running integration', () => {
  it('README: after npm install, `npx erpstream --help` works and lists the commands', async () => {
    const r = await erpstream([], {}, 'npx --no-install erpstream --help');
    expect(r.code).toBe(0);
    for (const c of ['connectors', 'integrations', 'worker', 'tail', 'demo']) expect(r.stdout).toContain(c);
    expect((await erpstream(['--version'])).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('docs/worker.md: the documented worker starts; a second one with its worker file says which worker holds it', async () => {
    worker = await startWorker({});
    expect(worker.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const busy = await erpstream(['worker', 'start', join(home, 'worker.properties'), '--listeners', worker.url]);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(
      /error: Offsets file \S+connect\.offsets is in use by another standalone worker \(pid \d+/,
    );
    expect(busy.stderr).toContain('start this one with its own worker file');
    expect(busy.stderr).not.toMatch(/report it|\n\s+at /);
  }, 120_000);

  it('docs/cli.md: a context, typed before the command as kubectl users do', async () => {
    expect((await erpstream(['config', 'set-context', 'local', '--connect-url', worker!.url])).code).toBe(0);
    expect((await erpstream(['config', 'use-context', 'local'])).code).toBe(0);
    const r = await erpstream(['--context', 'local', 'connectors', 'list']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  });

  it('mistake: an unknown connector class exits 2 and names the class that was meant', async () => {
    const file = join(home, 'typo-class.json');
    await writeFile(file, JSON.stringify({ name: `walk-${sfx}`, config: { 'connector.class': 'LookupSinkConector' } }));
    const r = await erpstream(['connectors', 'create', '-f', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('did you mean "erpstream.LookupSinkConnector"?');
    expect(r.stderr).not.toContain('Retry once the cluster is stable');
  });

  it('mistakes: a typo is named with what was meant, --strict refuses it, a missing key is listed once', async () => {
    const file = join(home, 'source.json');
    const config = {
      'connector.class': 'erpstream.ErpSourceConnector',
      'conection.url': db.url,
      'topic.prefix': `walk${sfx}`,
      'change.table': 'erp.change_log',
      'tables.include.list': 'erp.shipment',
    };
    await writeFile(file, JSON.stringify({ name: `walk-src-${sfx}`, config }));
    const dry = await erpstream(['connectors', 'apply', '-f', file, '--dry-run']);
    expect(dry.code).toBe(2);
    expect(dry.stdout).toContain(
      'unknown key "tables.include.list": not a configuration of ErpSourceConnector or of the framework, so it is ignored; did you mean "table.include.list"?',
    );
    expect(dry.stdout).toContain('did you mean "connection.url"?');
    expect(dry.stdout.split('Missing required configuration "connection.url"')).toHaveLength(2);

    await writeFile(
      file,
      JSON.stringify({
        name: `walk-src-${sfx}`,
        config: { ...config, 'connection.url': db.url, 'conection.url': undefined },
      }),
    );
    const strict = await erpstream(['connectors', 'apply', '-f', file, '--dry-run', '--strict']);
    expect(strict.code).toBe(2);
    expect(strict.stdout).toContain('! tables.include.list: unknown key');
    expect((await erpstream(['connectors', 'list'])).stdout).not.toContain(`walk-src-${sfx}`);
  }, 60_000);

  it('docs/integrations.md: validate, plan for CI, and an apply the worker cannot resolve ${env:…} for', async () => {
    const valid = await erpstream(['integrations', 'validate', '-f', files]);
    expect(valid.code).toBe(0);
    expect(valid.stdout).toContain('2 integrations valid (9 connectors).');
    // This worker was started without ERP_DB_URL: plan shows the changes, names the placeholder and, as an
    // error, exits 1 under --detailed-exitcode (2 would mean "changes pending, all fine"); apply writes nothing.
    const plan = await erpstream(['integrations', 'plan', '-f', files, '--summary', '--detailed-exitcode']);
    expect(plan.stdout).toMatch(/9 to create/);
    expect(plan.stderr).toContain("`${env:ERP_DB_URL}` is not set in the worker's environment");
    expect(plan.code).toBe(1);
    const apply = await erpstream(['integrations', 'apply', '-f', files]);
    expect(apply.code).toBe(2);
    expect(apply.stderr).toContain("`${env:ERP_DB_URL}` is not set in the worker's environment");
    expect(apply.stderr).toContain('nothing was written');
    expect(apply.stderr).not.toContain(db.url);
    expect(JSON.parse((await erpstream(['-o', 'json', 'connectors', 'list'])).stdout)).toEqual([]);
  }, 120_000);

  it('with the variables in the worker environment, apply works and every sink delivers (String-key worker defaults)', async () => {
    await stopWorker();
    const erp = erpConnectionValues(db.url);
    worker = await startWorker({
      ERP_DB_URL: erp.ERP_DB_URL,
      ERP_DB_USER: erp.ERP_DB_USER,
      ERP_DB_PASSWORD: erp.ERP_DB_PASSWORD,
    });
    expect((await erpstream(['config', 'set-context', 'local', '--connect-url', worker.url])).code).toBe(0);
    const apply = await erpstream(['integrations', 'apply', '-f', files]);
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    expect(apply.stdout).toContain('Done: 9 created, 0 updated, 0 deleted.');
    expect((await erpstream(['integrations', 'plan', '-f', files, '--detailed-exitcode'])).code).toBe(0);

    // The operations team at work: a person, their phone and a shipment with exact decimals, for acme (AC01).
    const q = (sql: string, params: unknown[]) => db.pool.query(sql, params);
    await q('INSERT INTO erp.party ("PARTY_ID", "PARTY_NM", "Z_CUST_CD") VALUES ($1, $2, $3)', [1, 'ACME', 'AC01']);
    await q('INSERT INTO erp.phone ("PHONE_ID", "PERS_ID", "PHONE_NO", "Z_CUST_CD") VALUES ($1, $2, $3, $4)', [
      3,
      7,
      '+41 79 000 00 00',
      'AC01',
    ]);
    await q(
      'INSERT INTO erp.person ("PERS_ID", "PARTY_ID", "FIRST_NM", "LAST_NM", "Z_CUST_CD") VALUES ($1, $2, $3, $4, $5)',
      [7, 1, 'Ada', 'Muster', 'AC01'],
    );
    await q(
      'INSERT INTO erp.shipment ("SHPMT_NO", "Z_CUST_CD", "STAT_CD", "NET_AMT", "WGT_KG") VALUES ($1, $2, $3, $4, $5)',
      ['S1', 'AC01', '30', '4808.66', '364.129'],
    );

    const sink = (name: string) => `acme${sfx}-${name}-sink`;
    for (const name of ['phones', 'persons', 'shipments']) {
      await waitFor(
        `${sink(name)} to deliver`,
        async () => {
          const r = await erpstream(['-o', 'json', 'connectors', 'status', sink(name)]);
          const s = JSON.parse(r.stdout) as {
            tasks: Array<{ state: string; trace?: string; progress?: { delivered?: number } }>;
          };
          const failed = s.tasks.find((t) => t.state === 'FAILED');
          if (failed) throw new Error(`${sink(name)} FAILED: ${failed.trace}`);
          return (s.tasks[0]?.progress?.delivered ?? 0) > 0 ? true : undefined;
        },
        90_000,
      );
    }
    const list = await erpstream(['integrations', 'list']);
    expect(list.stdout).toMatch(new RegExp(`acme${sfx} .*4 RUNNING +4/4 running`));
    const status = await erpstream([
      'connectors',
      'status',
      sink('shipments'),
      '--watch',
      '0.5',
      '--watch-rounds',
      '2',
    ]);
    expect(status.stdout.match(/Every 0\.5 s/g)).toHaveLength(2);
    expect(status.stdout).toMatch(/delivered 1/);
  }, 240_000);

  it('tail: piped into head it stops quietly; against a dead broker it prints one error', async () => {
    const topic = `acme${sfx}.shipments`;
    // `head -n 0` reads nothing and exits at once, so every write of tail meets a closed pipe.
    const piped = await erpstream(
      [],
      {},
      `node bin/erpstream.js tail ${topic} --bootstrap-servers ${brokers} | head -n 0`,
    );
    expect(piped.code).toBe(0);
    expect(piped.stderr).not.toContain('EPIPE');
    expect(piped.stderr).toBe('');
    const read = await erpstream(['tail', topic, '--bootstrap-servers', brokers]);
    expect(read.stdout).toContain('S1');
    const dead = await erpstream(['tail', topic, '--bootstrap-servers', '127.0.0.1:1']);
    expect(dead.code).toBe(3);
    expect(dead.stderr).toMatch(/^error: Cannot reach Kafka at 127\.0\.0\.1:1/);
    expect(dead.stderr).not.toContain('{"level"');
  }, 60_000);
});
