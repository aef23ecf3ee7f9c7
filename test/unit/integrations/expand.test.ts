import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadDocuments } from '../../../integrations/documents.js';
import { type Expansion, expandDocuments } from '../../../integrations/expand.js';
import { IntegrationFileError, formatProblem } from '../../../integrations/problems.js';
import { writeTree } from '../cli/integrations/write-files.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

async function expand(files: Record<string, string>, inputs = ['.']): Promise<Expansion> {
  const dir = await writeTree(files);
  return expandDocuments(
    await loadDocuments(
      inputs.map((i) => join(dir, i)),
      dir,
    ),
  );
}

async function problems(files: Record<string, string>): Promise<string[]> {
  const e = await expand(files).then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(e).toBeInstanceOf(IntegrationFileError);
  return (e as IntegrationFileError).problems.map(formatProblem);
}

const HEAD = 'apiVersion: erpstream/v1\nkind: Integration\n';

describe('the example integrations (examples/integrations)', () => {
  it('expand to one shared source and four sinks per customer', async () => {
    const exp = expandDocuments(await loadDocuments([join(REPO, 'examples/integrations')], REPO));
    expect(exp.integrations).toEqual(['acme', 'globex']);
    expect(exp.connectors.map((c) => [c.name, c.role, c.integrations.join('+')])).toEqual([
      ['erp-source', 'source', 'acme+globex'],
      ['acme-shipments-sink', 'sink', 'acme'],
      ['acme-documents-sink', 'sink', 'acme'],
      ['acme-persons-sink', 'sink', 'acme'],
      ['acme-phones-sink', 'sink', 'acme'],
      ['globex-shipments-sink', 'sink', 'globex'],
      ['globex-documents-sink', 'sink', 'globex'],
      ['globex-persons-sink', 'sink', 'globex'],
      ['globex-phones-sink', 'sink', 'globex'],
    ]);
    expect(exp.connectors[0]!.config).toEqual({
      name: 'erp-source',
      'connector.class': 'erpstream.ErpSourceConnector',
      'connection.url': '${env:ERP_DB_URL}',
      'connection.user': '${env:ERP_DB_USER}',
      'connection.password': '${env:ERP_DB_PASSWORD}',
      'capture.mode': 'change_table',
      'change.table': 'erp.change_log',
      'topic.prefix': 'erp',
      'poll.interval.ms': '200',
      'table.include.list': 'erp\\.party,erp\\.person,erp\\.phone,erp\\.shipment,erp\\.document,erp\\.document_domain',
      'erpstream.managed-by': 'erpstream-integrations',
      'erpstream.source': 'erp',
      // Pinned by the compiler (topic-format.ts), so any worker default works.
      'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'key.converter.schemas.enable': 'true',
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'value.converter.schemas.enable': 'true',
    });
    expect(exp.connectors.find((c) => c.name === 'globex-shipments-sink')!.config).toEqual({
      name: 'globex-shipments-sink',
      'connector.class': 'erpstream.LookupSinkConnector',
      // Reads its source's topics with the source's pinned format.
      'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'key.converter.schemas.enable': 'true',
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'value.converter.schemas.enable': 'true',
      topics: 'erp.erp.shipment',
      'lookup.connection.url': '${env:ERP_DB_URL}',
      'lookup.connection.user': '${env:ERP_DB_USER}',
      'lookup.connection.password': '${env:ERP_DB_PASSWORD}',
      'lookup.table': 'erp.shipment',
      'lookup.key.columns': 'SHPMT_NO',
      'entity.name': 'shipment',
      'destination.type': 'kafka',
      'destination.name': 'globex',
      'destination.topic': 'globex.shipments',
      // The consumed records: cleaned names, then routed by customer (other customers' records dropped).
      transforms: 'clean,domain',
      'transforms.clean.type': 'erpstream.transforms.CleanSchema',
      'transforms.clean.renames': 'dtUpdt:updatedAt',
      'transforms.clean.strip.prefixes': 'Z_',
      'transforms.clean.case': 'camel',
      'transforms.clean.boolean.fields': 'ACTIVE_FLG',
      'transforms.clean.decimal.fields': 'NET_AMT:2,WGT_KG:3',
      'transforms.domain.type': 'erpstream.transforms.DomainRouter',
      'transforms.domain.domain.field': 'custCd',
      'transforms.domain.domain.mapping': 'GX01:globex',
      'transforms.domain.on.missing': 'drop',
      // The looked-up row the customer receives: cleaned, then its codes translated.
      'delivery.transforms': 'clean,codes',
      'delivery.transforms.clean.type': 'erpstream.transforms.CleanSchema',
      'delivery.transforms.clean.renames': 'dtUpdt:updatedAt',
      'delivery.transforms.clean.strip.prefixes': 'Z_',
      'delivery.transforms.clean.case': 'camel',
      'delivery.transforms.clean.boolean.fields': 'ACTIVE_FLG',
      'delivery.transforms.clean.decimal.fields': 'NET_AMT:2,WGT_KG:3',
      'delivery.transforms.codes.type': 'erpstream.transforms.TranslateCodes',
      'delivery.transforms.codes.fields': 'statCd:shipment_status',
      'delivery.transforms.codes.tables.connection.password': '${env:ERP_DB_PASSWORD}',
      'delivery.transforms.codes.tables.connection.url': '${env:ERP_DB_URL}',
      'delivery.transforms.codes.tables.connection.user': '${env:ERP_DB_USER}',
      'delivery.transforms.codes.tables.query': 'SELECT table_name, code, value FROM erp.code_translation',
      'delivery.transforms.codes.on.miss': 'fail',
      'errors.tolerance': 'all',
      'errors.log.enable': 'true',
      // globex overrides only the topic; the rest of deadLetterQueue comes from the base (maps merge).
      'errors.deadletterqueue.topic.name': 'globex.errors',
      'errors.deadletterqueue.topic.replication.factor': '1',
      'errors.deadletterqueue.context.headers.enable': 'true',
      'erpstream.managed-by': 'erpstream-integrations',
      'erpstream.integration': 'globex',
      'erpstream.source': 'erp',
    });
    const phones = exp.connectors.find((c) => c.name === 'acme-phones-sink')!.config;
    expect(phones).toMatchObject({
      dependencies: 'person',
      'dependencies.person.type': 'ledger',
      'dependencies.person.entity': 'person',
      'dependencies.person.id.field': 'PERS_ID',
      'errors.deadletterqueue.topic.name': 'acme.dlq',
      transforms: 'clean,domain',
      'delivery.transforms': 'clean',
    });
  });
});

describe('expansion', () => {
  const base =
    'apiVersion: erpstream/v1\nkind: IntegrationTemplate\n' +
    'source: {name: erp, connection: {url: "postgresql://h/erp"}, capture: {changeTable: erp.change_log}, topicPrefix: erp, tables: [erp.document]}\n' +
    'sink: {lookup: {table: erp.document, keyColumns: [DOC_ID]}, destination: {type: kafka, topic: "${customer}.documents"}}\n';

  it('names sinks after the customer, replaces ${customer}, and defaults the sink topics and lookup connection to the source', async () => {
    const exp = await expand({ 'base.yaml': base, 'a.yaml': `${HEAD}extends: ./base.yaml\nmetadata: {name: a}\n` }, [
      'a.yaml',
    ]);
    const sink = exp.connectors[1]!;
    expect(sink.name).toBe('a-sink');
    expect(sink.config).toMatchObject({
      topics: 'erp.erp.document',
      'destination.topic': 'a.documents',
      'lookup.connection.url': 'postgresql://h/erp',
    });
    expect(sink.origins['lookup.connection.url']).toBe('source.connection.url');
  });

  it('consumes a dependency’s registration topic too, and keeps the domain stage off it', async () => {
    const exp = await expand(
      {
        'base.yaml': base,
        'a.yaml':
          `${HEAD}extends: ./base.yaml\nmetadata: {name: a}\ndomain: {field: custCd, codes: [A1]}\n` +
          'sink: {dependencies: {registered: {type: field, field: domain, tables: [erp.document_domain], topicIdField: [docId]}}}\n',
      },
      ['a.yaml'],
    );
    expect(exp.connectors[1]!.config).toMatchObject({
      topics: 'erp.erp.document,erp.erp.document_domain',
      'dependencies.registered.topic': 'erp.erp.document_domain',
      'dependencies.registered.topic.id.field': 'docId',
      'transforms.domain.predicate': 'dependencyTopics',
      'transforms.domain.negate': 'true',
      predicates: 'dependencyTopics',
      'predicates.dependencyTopics.pattern': 'erp\\.erp\\.document_domain',
    });
    expect(exp.connectors[1]!.config['dependencies.registered.tables']).toBeUndefined();
  });

  it('lets a customer declare its own source: two sources, each used by one customer', async () => {
    const exp = await expand(
      {
        'base.yaml': base,
        'a.yaml': `${HEAD}extends: ./base.yaml\nmetadata: {name: a}\n`,
        'b.yaml': `${HEAD}extends: ./base.yaml\nmetadata: {name: b}\nsource: {name: erp2, topicPrefix: erp2}\n`,
      },
      ['a.yaml', 'b.yaml'],
    );
    expect(exp.connectors.map((c) => `${c.name}:${c.integrations.join('+')}`)).toEqual([
      'erp-source:a',
      'erp2-source:b',
      'a-sink:a',
      'b-sink:b',
    ]);
    expect(exp.connectors[3]!.config.topics).toBe('erp2.erp.document');
  });

  it('shares a kind: Source declared in its own file through sourceRef', async () => {
    const exp = await expand({
      'erp.yaml':
        'apiVersion: erpstream/v1\nkind: Source\nmetadata: {name: erp}\nspec: {connection: {url: "postgresql://h/erp"}, capture: {changeTable: erp.ct}, topicPrefix: erp, tables: [erp.document]}\n',
      'a.yaml': `${HEAD}metadata: {name: a}\nsourceRef: erp\nsink: {lookup: {table: erp.document, keyColumns: [DOC_ID]}, destination: {type: kafka, topic: t}}\n`,
      'b.yaml': `${HEAD}metadata: {name: b}\nsourceRef: erp\nsink: {lookup: {table: erp.document, keyColumns: [DOC_ID]}, destination: {type: kafka, topic: t}}\n`,
    });
    expect(exp.connectors.map((c) => `${c.name}:${c.integrations.join('+')}`)).toEqual([
      'erp-source:a+b',
      'a-sink:a',
      'b-sink:b',
    ]);
    expect(exp.connectors[0]!.config['change.table']).toBe('erp.ct');
  });

  it("appends a lookup sink's extra transforms to its delivery chain and builds the domain mapping from codes", async () => {
    const exp = await expand(
      {
        'base.yaml': base,
        'a.yaml':
          `${HEAD}extends: ./base.yaml\nmetadata: {name: a}\ndomain: {field: cust, codes: [C1, C2]}\n` +
          'sink: {transforms: [{alias: route, type: RegexRouter, config: {regex: "(.*)", replacement: "$1-${customer}"}}]}\n',
      },
      ['a.yaml'],
    );
    expect(exp.connectors[1]!.config).toMatchObject({
      transforms: 'domain',
      'transforms.domain.domain.mapping': 'C1:a,C2:a',
      'transforms.domain.on.missing': 'drop',
      'delivery.transforms': 'route',
      'delivery.transforms.route.type': 'RegexRouter',
      'delivery.transforms.route.replacement': '$1-a',
    });
    expect(exp.connectors[1]!.origins['delivery.transforms.route.type']).toBe('sink.transforms[0].type');
  });

  it('routes by customer before translating codes in the one chain of another connector class', async () => {
    const exp = await expand(
      {
        'base.yaml': base,
        'a.yaml':
          `${HEAD}extends: ./base.yaml\nmetadata: {name: a}\ndomain: {field: cust, codes: [C1]}\n` +
          'clean: {case: camel}\ntranslate: {fields: {st: status}, tablesFile: /t.yaml}\n' +
          'sink: {connectorClass: FileStreamSink, config: {file: /tmp/out}}\n',
      },
      ['a.yaml'],
    );
    expect(exp.connectors[1]!.config).toMatchObject({ transforms: 'clean,domain,codes' });
    expect(exp.connectors[1]!.config['delivery.transforms']).toBeUndefined();
  });
});

describe('problems name the file and the exact field', () => {
  const sink = 'sink: {lookup: {table: erp.d, keyColumns: [ID]}, destination: {type: kafka, topic: t}}\n';
  const source =
    'source: {name: erp, connection: {url: "postgresql://h/e"}, capture: {changeTable: erp.ct}, topicPrefix: erp, tables: [erp.d]}\n';

  it('reports typos, wrong types and values, all at once', async () => {
    expect(
      await problems({
        'customers/acme.yaml':
          `${HEAD}metadata: {name: acme}\n${source}` +
          'sink: {lookup: {table: erp.d, keyColumns: {a: 1}}, destinaton: {}, destination: {type: kafak}}\nclean: {case: 3, trimStrings: maybe}\n',
      }),
    ).toEqual([
      expect.stringMatching(
        /^customers\/acme\.yaml: sink\.destinaton: unknown field; expected one of: connectorClass, /,
      ),
      'customers/acme.yaml: sink.lookup.keyColumns: expected a list, found a mapping',
      'customers/acme.yaml: sink.destination.type: "kafak" is not one of: kafka, http, jdbc',
      'customers/acme.yaml: clean.trimStrings: expected true or false, found string "maybe"',
    ]);
  });

  it('requires a name fit for connector names, a source and a sink', async () => {
    expect(await problems({ 'x.yaml': `${HEAD}metadata: {name: Acme_Corp}\n` })).toEqual([
      'x.yaml: metadata.name: "Acme_Corp" is not valid: use lower-case letters, digits and "-" (it becomes part of connector and topic names)',
    ]);
    expect(await problems({ 'x.yaml': `${HEAD}metadata: {name: acme}\n` })).toEqual([
      'x.yaml: declare source (the ERP to capture) or sourceRef (a shared kind: Source)',
      'x.yaml: declare sink (or sinks: one per entity)',
    ]);
    expect(
      await problems({
        'x.yaml': `apiVersion: erpstream/v2\nkind: Integration\nmetadata: {name: a}\n${source}${sink}`,
      }),
    ).toEqual(['x.yaml: apiVersion: "erpstream/v2" is not supported; use erpstream/v1']);
  });

  it('rejects a shared source declared differently, and a dangling sourceRef', async () => {
    expect(
      await problems({
        'a.yaml': `${HEAD}metadata: {name: a}\n${source}${sink}`,
        'b.yaml': `${HEAD}metadata: {name: b}\n${source.replace('topicPrefix: erp', 'topicPrefix: other')}${sink}`,
      }),
    ).toEqual([
      'b.yaml: source: source "erp" is declared differently in a.yaml (key topic.prefix); customers sharing a source must declare it identically (put it in the base file or a kind: Source file)',
    ]);
    expect(await problems({ 'a.yaml': `${HEAD}metadata: {name: a}\nsourceRef: erp\n${sink}` })).toEqual([
      'a.yaml: sourceRef: no kind: Source named "erp" in the files given (pass its file or directory with -f)',
    ]);
  });

  it('rejects the same customer twice and a key set by two fields', async () => {
    expect(
      await problems({
        'a.yaml': `${HEAD}metadata: {name: a}\n${source}${sink}`,
        'b.yaml': `${HEAD}metadata: {name: a}\n${source}${sink}`,
      }),
    ).toEqual(['b.yaml: metadata.name: integration "a" is also declared in a.yaml']);
    expect(
      await problems({
        'a.yaml': `${HEAD}metadata: {name: a}\n${source}sink: {lookup: {table: erp.d, keyColumns: [ID]}, destination: {type: kafka, topic: t}, config: {destination.topic: u}}\n`,
      }),
    ).toEqual([
      'a.yaml: sink.config.destination.topic: sets "destination.topic", which sink.destination.topic already sets; keep one',
    ]);
  });
});
