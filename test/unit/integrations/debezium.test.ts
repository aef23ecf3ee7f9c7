import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { plainStyle } from '../../../cli/output.js';
import { slotName } from '../../../integrations/debezium.js';
import { loadDocuments } from '../../../integrations/documents.js';
import { type Expansion, expandDocuments } from '../../../integrations/expand.js';
import { LABEL_MANAGED_BY, LABEL_SOURCE, MANAGED_BY } from '../../../integrations/fields.js';
import { integrationJsonSchema } from '../../../integrations/schema.js';
import { computePlan, renderPlan } from '../../../cli/integrations/plan.js';
import { IntegrationFileError, formatProblem } from '../../../integrations/problems.js';
import {
  DEFAULT_CLUSTER,
  computeClusterPlans,
  resolveClusterTarget,
  splitByCluster,
} from '../../../cli/integrations/targets.js';
import { validateExpansion } from '../../../integrations/validate.js';
import { writeTree } from '../cli/integrations/write-files.js';

async function expand(text: string): Promise<Expansion> {
  const dir = await writeTree({ 'c.yaml': text });
  return expandDocuments(await loadDocuments([join(dir, 'c.yaml')], dir));
}

async function problems(text: string): Promise<string[]> {
  const e = await expand(text).then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!(e instanceof IntegrationFileError)) throw new Error(`expected problems, got ${String(e)}`);
  return e.problems.map(formatProblem);
}

const file = (
  source: string,
  sink = 'sink: {lookup: {table: erp.orders, keyColumns: [id]}, destination: {type: kafka, name: c, topic: c.orders}}',
) =>
  `apiVersion: erpstream/v1
kind: Integration
metadata: {name: cust}
source:
  name: erp
  kind: debezium
${source
  .split('\n')
  .map((l) => `  ${l}`)
  .join('\n')}
${sink}
`;

const PG = `connector: postgresql
cluster: their-connect
connection: {url: "postgresql://db.example:5433/erp", user: dbz, password: "\${env:ERP_DB_PASSWORD}"}
tables: [erp.orders, erp.order_lines]
topicPrefix: acme`;

describe('Debezium sources in integration files', () => {
  it('expands a PostgreSQL source to the Debezium connector on its own cluster', async () => {
    const e = await expand(file(PG));
    const src = e.connectors.find((c) => c.role === 'source')!;
    expect(src.cluster).toBe('their-connect');
    expect(src.config).toEqual({
      'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
      'tasks.max': '1',
      'topic.prefix': 'acme',
      'table.include.list': 'erp\\.orders,erp\\.order_lines',
      'database.hostname': 'db.example',
      'database.port': '5433',
      'database.dbname': 'erp',
      'database.user': 'dbz',
      'database.password': '${env:ERP_DB_PASSWORD}',
      'plugin.name': 'pgoutput',
      'slot.name': 'erpstream_erp',
      'publication.name': 'erpstream_erp',
      'publication.autocreate.mode': 'filtered',
      'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'key.converter.schemas.enable': 'true',
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'value.converter.schemas.enable': 'true',
      name: 'erp-source',
      [LABEL_MANAGED_BY]: MANAGED_BY,
      [LABEL_SOURCE]: 'erp',
    });
  });

  it("gives the sink Debezium's topics, an unwrap-first chain and the database as lookup connection", async () => {
    const e = await expand(file(PG) + 'clean: {case: camel}\n');
    const sink = e.connectors.find((c) => c.role === 'sink')!;
    expect(sink.cluster).toBeUndefined();
    expect(sink.config.topics).toBe('acme.erp.orders,acme.erp.order_lines');
    expect(sink.config.transforms).toBe('unwrap,clean');
    expect(sink.config['transforms.unwrap.type']).toBe('io.debezium.transforms.ExtractNewRecordState');
    expect(sink.config['lookup.connection.url']).toBe('postgresql://db.example:5433/erp');
    expect(sink.config['lookup.connection.password']).toBe('${env:ERP_DB_PASSWORD}');
    // The sink reads the topics in the format the Debezium connector writes (pinned on both ends).
    expect(sink.config['value.converter']).toBe('org.apache.kafka.connect.json.JsonConverter');
    expect(sink.config['value.converter.schemas.enable']).toBe('true');
    // Offline: our plugins check the sink and its chain; only Debezium's own keys are left to its cluster.
    const report = validateExpansion(e);
    expect(report.problems).toEqual([]);
    expect(report.warnings.map((w) => w.path)).toEqual(['source.connector']);
  });

  it('keeps the schema history of MySQL and SQL Server in Kafka', async () => {
    const mysql = (
      await expand(
        file(`connector: mysql
cluster: http://connect.example:8083
connection: {url: "mysql://db.example/erp", user: dbz, password: "\${env:P}"}
tables: [erp.orders]
topicPrefix: acme
schemaHistory: {bootstrapServers: "kafka.example:9092"}`),
      )
    ).connectors[0]!.config;
    expect(mysql).toMatchObject({
      'connector.class': 'io.debezium.connector.mysql.MySqlConnector',
      'database.port': '3306',
      'schema.history.internal.kafka.bootstrap.servers': 'kafka.example:9092',
      'schema.history.internal.kafka.topic': 'acme.schema-history',
    });
    expect(mysql['database.server.id']).toMatch(/^\d+$/);
    const mssql = (
      await expand(
        file(`connector: sqlserver
cluster: their-connect
connection: {url: "jdbc:sqlserver://db.example:1433;databaseName=erp", user: sa, password: "\${env:P}"}
tables: [dbo.orders]
topicPrefix: acme
schemaHistory: {bootstrapServers: "k:9092", topic: acme.history}`),
      )
    ).connectors[0]!.config;
    expect(mssql).toMatchObject({
      'connector.class': 'io.debezium.connector.sqlserver.SqlServerConnector',
      'database.hostname': 'db.example',
      'database.port': '1433',
      'database.names': 'erp',
      'schema.history.internal.kafka.topic': 'acme.history',
    });
  });

  it("mirrors the source's own converters on the sink when the file sets them", async () => {
    const e = await expand(
      file(
        `${PG}\nconfig: {value.converter: io.confluent.connect.avro.AvroConverter, value.converter.schema.registry.url: "http://sr:8081"}`,
      ),
    );
    const [src, sink] = e.connectors;
    expect(src!.config['key.converter']).toBeUndefined();
    expect(sink!.config['value.converter']).toBe('io.confluent.connect.avro.AvroConverter');
    expect(sink!.config['value.converter.schema.registry.url']).toBe('http://sr:8081');
  });

  it('points at each missing or wrong field', async () => {
    expect(await problems(file('connection: {url: "postgresql://h/erp", user: u}\ntables: [erp.t]'))).toEqual(
      expect.arrayContaining([
        expect.stringContaining('source.connector: required'),
        expect.stringContaining('source.cluster: required'),
        expect.stringContaining('source.topicPrefix: required'),
      ]),
    );
    const p = await problems(
      file(`connector: oracle
cluster: c
connection: {url: "x", user: u}
tables: [erp.orders]
topicPrefix: p`),
    );
    expect(p).toEqual([
      expect.stringContaining('source.connector: "oracle" is not one of: postgresql, mysql, sqlserver'),
    ]);
    const urls = await problems(
      file(`connector: postgresql
cluster: c
connection: {url: "\${env:ERP_DB_URL}", user: u}
tables: [orders]
topicPrefix: p`),
    );
    expect(urls.join('\n')).toContain('source.tables: "orders" needs its schema');
    expect(urls.join('\n')).toContain('source.connection.url: Debezium takes host, port and database as separate keys');
    const secret = await problems(file(PG.replace('db.example:5433', 'dbz:s3cret@db.example:5433')));
    expect(secret).toEqual([expect.stringContaining('source.connection.url: holds a password')]);
    expect(secret.join()).not.toContain('s3cret');
    expect(await problems(file(`${PG}\nschemaHistory: {bootstrapServers: k}`))).toEqual([
      expect.stringContaining('source.schemaHistory: only MySQL and SQL Server'),
    ]);
    expect((await problems(file(PG.replace('postgresql', 'mysql')))).join()).toContain(
      'source.schemaHistory: required',
    );
  });

  it('rejects Debezium-only fields on an erpstream source', async () => {
    const p = await problems(
      file('connection: {url: "postgresql://h/erp"}\ntopicPrefix: p\ntables: [erp.t]\ncluster: c').replace(
        'kind: debezium',
        'kind: erpstream',
      ),
    );
    expect(p).toEqual([expect.stringContaining('source.cluster: only for a source of kind: debezium')]);
    const noKind = await problems(
      file('connection: {url: "postgresql://h/erp"}\ntopicPrefix: p\ntables: [erp.t]\nconnector: mysql').replace(
        '  kind: debezium\n',
        '',
      ),
    );
    expect(noKind).toEqual([expect.stringContaining('source.connector: only for a source of kind: debezium')]);
  });
});

describe('plans across clusters', () => {
  it('splits the Debezium source from the sinks and never deletes sources on the other cluster', async () => {
    const e = await expand(file(PG));
    const parts = splitByCluster(e);
    expect([...parts.keys()]).toEqual([DEFAULT_CLUSTER, 'their-connect']);
    expect(parts.get('their-connect')!.connectors.map((c) => c.name)).toEqual(['erp-source']);
    expect(parts.get(DEFAULT_CLUSTER)!.connectors.map((c) => c.name)).toEqual(['cust-sink']);

    const otherTeams = { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_SOURCE]: 'globex-erp', 'connector.class': 'x' };
    const plans = computeClusterPlans(e, new Map([['their-connect', new Map([['globex-erp-source', otherTeams]])]]));
    expect(plans.get('their-connect')!.items.map((i) => [i.action, i.name])).toEqual([['create', 'erp-source']]);
    expect(plans.get('their-connect')!.untouched).toEqual(['globex-erp-source']);
    expect(plans.get(DEFAULT_CLUSTER)!.items.map((i) => [i.action, i.name])).toEqual([['create', 'cust-sink']]);
  });

  it("never plans the Debezium source on the command's own cluster, and says where it belongs", async () => {
    const plan = computePlan(await expand(file(PG)), new Map());
    expect(plan.items.map((i) => [i.action, i.name])).toEqual([['create', 'cust-sink']]);
    expect(plan.elsewhere).toEqual([{ name: 'erp-source', cluster: 'their-connect' }]);
    expect(renderPlan(plan, plainStyle)).toContain('erp-source belongs on cluster their-connect');
  });

  it('derives replication slot names Postgres accepts', () => {
    expect(slotName('acme-erp')).toBe('erpstream_acme_erp');
  });

  it("resolves a cluster URL as given, ignoring the command's own ERPSTREAM_CONNECT_URL", async () => {
    const t = await resolveClusterTarget('http://their-connect:8083', {
      ERPSTREAM_CONNECT_URL: 'http://ours:8083',
      HOME: '/nonexistent',
    });
    expect(t.url).toBe('http://their-connect:8083');
  });
});

describe('the Debezium example (examples/debezium)', () => {
  it('expands and validates offline, and the JSON Schema declares every source field it uses', async () => {
    const repo = fileURLToPath(new URL('../../../', import.meta.url));
    const docs = await loadDocuments(['examples/debezium'], repo);
    const e = expandDocuments(docs);
    expect(e.connectors.map((c) => [c.role, c.name, c.cluster])).toEqual([
      ['source', 'initech-erp-source', 'customer-connect'],
      ['sink', 'initech-sink', undefined],
    ]);
    expect(validateExpansion(e).problems).toEqual([]);
    const props = (integrationJsonSchema().properties as Record<string, { properties: Record<string, unknown> }>)
      .source!.properties;
    const used = Object.keys(docs[0]!.body.source as Record<string, unknown>);
    expect(used.filter((k) => props[k] === undefined)).toEqual([]);
  });
});
