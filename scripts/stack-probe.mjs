/* global process, console, setTimeout, fetch, AbortSignal */
import { readFileSync } from 'node:fs';

// Readiness probes for scripts/stack. Retries until the service really answers, the timeout passes, or the
// watched process dies.
//
//   node scripts/stack-probe.mjs kafka   127.0.0.1:9092                 <timeout s> [pid]   metadata request
//   node scripts/stack-probe.mjs http    http://127.0.0.1:8081/...      <timeout s> [pid]   200 with a JSON body
//   node scripts/stack-probe.mjs http-ok http://127.0.0.1:8083/health   <timeout s> [pid]   200
//   node scripts/stack-probe.mjs pg      postgresql://u:p@host:port/db  <timeout s> [pid]   SELECT 1
//   node scripts/stack-probe.mjs mysql   mysql://u:p@host:port/db       <timeout s> [pid]   SELECT 1
//
// Exit 0 when ready, 1 otherwise (the last error goes to stderr).

const [kind, target, timeoutArg = '60', pidArg] = process.argv.slice(2);
if (!kind || !target) {
  console.error('usage: stack-probe.mjs <kafka|http|http-ok|pg|mysql> <target> [timeout s] [pid]');
  process.exit(2);
}
const deadline = Date.now() + Number(timeoutArg) * 1000;
const pid = pidArg ? Number(pidArg) : undefined;

function alive(p) {
  try {
    // a zombie (exited, not yet reaped) is not alive
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${p}/status`, 'utf8'));
  } catch {
    return false;
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function probeKafka() {
  const { Kafka, logLevel } = await import('kafkajs');
  const kafka = new Kafka({
    clientId: 'erpstream-stack-probe',
    brokers: target.split(','),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    requestTimeout: 5000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (!cluster.brokers.length) throw new Error('metadata lists no broker');
    await admin.listTopics();
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

async function probeHttp(expectJson) {
  const res = await fetch(target, { signal: AbortSignal.timeout(5000) });
  const body = await res.text();
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${body.slice(0, 200)}`);
  if (expectJson) JSON.parse(body);
}

async function probePg() {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: target, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } finally {
    await client.end().catch(() => {});
  }
}

async function probeMysql() {
  const mysql = await import('mysql2/promise');
  const conn = await mysql.createConnection({ uri: target, connectTimeout: 3000 });
  try {
    await conn.query('SELECT 1');
  } finally {
    await conn.end().catch(() => {});
  }
}

const probes = {
  kafka: probeKafka,
  http: () => probeHttp(true),
  'http-ok': () => probeHttp(false),
  pg: probePg,
  mysql: probeMysql,
};
const probe = probes[kind];
if (!probe) {
  console.error(`unknown probe kind: ${kind}`);
  process.exit(2);
}

let lastError;
for (;;) {
  try {
    await probe();
    process.exit(0);
  } catch (err) {
    lastError = err;
  }
  if (pid !== undefined && !alive(pid)) {
    console.error(`${kind} probe: process ${pid} exited (last error: ${lastError?.message ?? lastError})`);
    process.exit(1);
  }
  if (Date.now() > deadline) {
    console.error(
      `${kind} probe: no answer from ${target} after ${timeoutArg}s (last error: ${lastError?.message ?? lastError})`,
    );
    process.exit(1);
  }
  await sleep(500);
}
