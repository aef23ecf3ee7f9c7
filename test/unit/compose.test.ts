import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// No Docker engine runs where the tests run, so `docker compose config` cannot check this file: parse it instead.
const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(`${root}${path}`, 'utf8');

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  ports?: Array<string | { host_ip?: string; published?: string | number; target: number }>;
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string | number>;
}

const compose = parse(read('compose/docker-compose.yml')) as { services: Record<string, ComposeService> };

describe('compose/docker-compose.yml', () => {
  it('has SQL Server, Kafka, the registry and the erpstream worker', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['erpstream', 'kafka', 'mssql', 'schema-registry']);
    expect(compose.services.mssql?.image).toBe('mcr.microsoft.com/mssql/server:2022-latest');
    expect(compose.services.kafka?.image).toMatch(/^apache\/kafka:4\./);
    expect(compose.services['schema-registry']?.image).toMatch(/^apicurio\/apicurio-registry:3\./);
    expect(compose.services.erpstream?.build).toEqual({ context: '..', dockerfile: 'Dockerfile' });
    expect(Object.keys(compose.services.erpstream?.depends_on ?? {}).sort()).toEqual([
      'kafka',
      'mssql',
      'schema-registry',
    ]);
  });

  it('binds every published port to 127.0.0.1', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      expect(service.ports?.length, `${name} publishes a port`).toBeGreaterThan(0);
      for (const port of service.ports ?? []) {
        if (typeof port === 'string') expect(port, `${name}: ${port}`).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
        else expect(port.host_ip, `${name}: ${JSON.stringify(port)}`).toBe('127.0.0.1');
      }
    }
  });

  it('runs Kafka in KRaft mode with single-node replication settings', () => {
    const env = compose.services.kafka?.environment ?? {};
    expect(env.KAFKA_PROCESS_ROLES).toBe('broker,controller');
    expect(env.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR).toBe(1);
    expect(env.KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR).toBe(1);
    expect(String(env.KAFKA_ADVERTISED_LISTENERS)).toContain('127.0.0.1:9092');
  });
});

describe('compose/mssql/init.sql', () => {
  const sql = read('compose/mssql/init.sql');
  it('creates the demo ERP tables, the change table with triggers, and enables Change Tracking', () => {
    for (const table of ['shipments', 'persons', 'phones', 'documents', 'document_domain']) {
      expect(sql).toMatch(new RegExp(`CREATE TABLE erp\\.${table} \\(`));
      expect(sql).toMatch(
        new RegExp(`CREATE TRIGGER erp\\.trg_${table}_change_log ON erp\\.${table} AFTER INSERT, UPDATE, DELETE`),
      );
      expect(sql).toMatch(new RegExp(`ALTER TABLE erp\\.${table} ENABLE CHANGE_TRACKING`));
    }
    expect(sql).toMatch(/CREATE TABLE erp\.change_log \(\s*seq\s+bigint IDENTITY/);
    expect(sql).toMatch(/ALTER DATABASE erp SET CHANGE_TRACKING = ON/);
  });
});

describe('Dockerfile', () => {
  it('builds on node:24-slim (Node 24 LTS) with npm ci and starts the worker from dist', () => {
    const dockerfile = read('Dockerfile');
    expect(dockerfile).toMatch(/^FROM node:24-slim/m);
    expect(dockerfile).not.toMatch(/^FROM node:(1\d|20|21)[-:]/m);
    expect(dockerfile).toContain('npm ci');
    expect(dockerfile).toContain('npm run build');
    expect(dockerfile).toContain('ENTRYPOINT ["node", "dist/cli/main.js"]');
    expect(dockerfile).toContain('CMD ["worker", "start"]');
  });
});
