import mysql from 'mysql2/promise';
import pg from 'pg';
import { createKafka } from '../../runtime/kafka/index.js';
import { requireEnv, STACK_HINT, type StackEnvName } from './env.js';

const REQUIRED: StackEnvName[] = ['KAFKA_BROKERS', 'SCHEMA_REGISTRY_URL', 'PG_URL', 'MYSQL_URL'];

async function checkKafka(brokers: string): Promise<void> {
  const kafka = createKafka({ brokers, clientId: 'erpstream-it-setup', logLevel: 'nothing', retry: { retries: 2 } });
  const admin = kafka.admin();
  try {
    await admin.connect();
    await admin.describeCluster();
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

async function checkRegistry(url: string): Promise<void> {
  const res = await fetch(`${url.replace(/\/$/, '')}/subjects`, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`GET /subjects answered HTTP ${res.status}`);
  await res.json();
}

async function checkPostgres(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } finally {
    await client.end().catch(() => {});
  }
}

async function checkMysql(url: string): Promise<void> {
  const conn = await mysql.createConnection({ uri: url, connectTimeout: 5000 });
  try {
    await conn.query('SELECT 1');
  } finally {
    await conn.end().catch(() => {});
  }
}

/**
 * Fails the whole integration run with one clear message when the stack's variables are missing or a service
 * does not answer (never skips).
 */
export default async function setup(): Promise<void> {
  const missing = REQUIRED.filter((name) => !process.env[name]?.trim());
  if (missing.length > 0) {
    // requireEnv builds the message (and names CI when CI=true)
    try {
      requireEnv(missing[0]!);
    } catch (err) {
      const more = missing.length > 1 ? ` (also missing: ${missing.slice(1).join(', ')})` : '';
      throw new Error(`${(err as Error).message}${more}`);
    }
  }
  const checks: Array<[string, string, (target: string) => Promise<void>]> = [
    ['Kafka', requireEnv('KAFKA_BROKERS'), checkKafka],
    ['schema registry', requireEnv('SCHEMA_REGISTRY_URL'), checkRegistry],
    ['PostgreSQL', requireEnv('PG_URL'), checkPostgres],
    ['MariaDB', requireEnv('MYSQL_URL'), checkMysql],
  ];
  const results = await Promise.allSettled(checks.map(([, target, check]) => check(target)));
  const down = results.flatMap((r, i) => {
    if (r.status === 'fulfilled') return [];
    const [name, target] = checks[i]!;
    const reason = r.reason instanceof Error ? r.reason.message : String(r.reason);
    return [`${name} at ${target.replace(/\/\/[^@/]*@/, '//')}: ${reason}`];
  });
  if (down.length > 0) {
    throw new Error(
      `integration services are not reachable:\n  - ${down.join('\n  - ')}\n` +
        `${STACK_HINT} (scripts/stack status shows what runs)`,
    );
  }
}
