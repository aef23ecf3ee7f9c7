import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LookupSinkTask } from '../../../../connectors/lookup-sink/index.js';
import { KafkaPluginAccess, createKafka } from '../../../../runtime/kafka/index.js';
import { requireEnv, uniqueSuffix } from '../../env.js';
import { sinkRecord, testContext } from './harness.js';

// What customers receive for each origin column type: the JSON the kafka destination writes for a looked-up row.
const sfx = uniqueSuffix();
const kafka = createKafka({ brokers: requireEnv('KAFKA_BROKERS'), clientId: 'lookup-sink-it', logLevel: 'nothing' });
const access = new KafkaPluginAccess(kafka, { clientId: 'lookup-sink-it' });
let pgDb: pg.Client;
let myDb: mysql.Connection;

async function deliverOne(url: string, table: string, topic: string): Promise<string> {
  const task = new LookupSinkTask();
  task.initialize(testContext({ kafka: access }));
  await task.start({
    'lookup.connection.url': url,
    'lookup.table': table,
    'lookup.key.columns': 'id',
    'entity.name': 'item',
    'destination.type': 'kafka',
    'destination.name': topic.replace(/\W/g, '_'),
    'destination.topic': topic,
    'ledger.table': `${table}_ledger`,
    'park.table': `${table}_parked`,
    'park.check.interval.ms': '3600000',
  });
  try {
    await task.put([sinkRecord({ topic: 'items', offset: 0n, key: 1, version: 1n })]);
    await task.flush();
  } finally {
    await task.stop();
  }
  const values: string[] = [];
  await access.readAll(topic, (_key, value) => void values.push(value!.toString()));
  expect(values).toHaveLength(1);
  return values[0]!;
}

beforeAll(async () => {
  pgDb = new pg.Client({ connectionString: requireEnv('PG_URL') });
  await pgDb.connect();
  await pgDb.query(`CREATE SCHEMA ls_values_${sfx}`);
  myDb = await mysql.createConnection({ uri: requireEnv('MYSQL_URL') });
});

afterAll(async () => {
  await pgDb?.query(`DROP SCHEMA IF EXISTS ls_values_${sfx} CASCADE`);
  await pgDb?.end();
  for (const suffix of ['', '_ledger', '_parked']) await myDb?.query(`DROP TABLE IF EXISTS ls_values_${sfx}${suffix}`);
  await myDb?.end();
});

describe('LookupSink row values as delivered (JSON)', () => {
  it('PostgreSQL: ISO-8601 timestamps with microseconds (Z for timestamptz), exact numbers, dates as they are', async () => {
    const table = `ls_values_${sfx}.item`;
    await pgDb.query(
      `CREATE TABLE ${table} (id int PRIMARY KEY, made timestamp(6), at timestamptz, day date, amount numeric(12,2), big bigint)`,
    );
    await pgDb.query(
      `INSERT INTO ${table} VALUES (1, '2026-11-22 10:00:00.123456', '2026-11-22 12:00:00.5+02', '2026-11-22', 1234567890.10, 9007199254740993)`,
    );
    expect(await deliverOne(requireEnv('PG_URL'), table, `ls.values.pg.${sfx}`)).toBe(
      '{"id":1,"made":"2026-11-22T10:00:00.123456","at":"2026-11-22T10:00:00.5Z","day":"2026-11-22",' +
        '"amount":"1234567890.10","big":9007199254740993}',
    );
  });

  it('MariaDB: ISO-8601 DATETIME and TIMESTAMP (UTC) with microseconds, exact numbers', async () => {
    const table = `ls_values_${sfx}`;
    await myDb.query(
      `CREATE TABLE ${table} (id INT PRIMARY KEY, made DATETIME(6), at TIMESTAMP(6) NULL, day DATE, amount DECIMAL(12,2), big BIGINT)`,
    );
    await myDb.query(`SET time_zone = '+02:00'`);
    await myDb.query(
      `INSERT INTO ${table} VALUES (1, '2026-11-22 10:00:00.123456', '2026-11-22 12:00:00.500000', '2026-11-22', 1234567890.10, 9007199254740993)`,
    );
    expect(await deliverOne(requireEnv('MYSQL_URL'), table, `ls.values.maria.${sfx}`)).toBe(
      '{"id":1,"made":"2026-11-22T10:00:00.123456","at":"2026-11-22T10:00:00.500000","day":"2026-11-22",' +
        '"amount":"1234567890.10","big":9007199254740993}',
    );
  });
});
