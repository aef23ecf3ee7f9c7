import { describe, expect, it } from 'vitest';
import {
  lookupSinkPlugin,
  lookupSinkPlugins,
  parseLookupSinkConfig,
} from '../../../../connectors/lookup-sink/index.js';
import { ConfigError } from '../../../../runtime/api/index.js';

const base = {
  'lookup.connection.url': 'postgresql://u:secret@127.0.0.1:5432/erp',
  'lookup.table': 'erp.document',
  'lookup.key.columns': 'document_id',
  'destination.type': 'kafka',
  'destination.topic': '${domain}.documents',
};

function configError(props: Record<string, string>): ConfigError {
  try {
    parseLookupSinkConfig(props);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('LookupSink config', () => {
  it('is registered under its class name and aliases', () => {
    expect(lookupSinkPlugins).toEqual([lookupSinkPlugin]);
    expect(lookupSinkPlugin.className).toBe('erpstream.LookupSinkConnector');
    expect(lookupSinkPlugin.aliases).toEqual(['LookupSink', 'LookupSinkConnector']);
  });

  it('parses a minimal config with defaults: entity from the table, ledger in the lookup database', () => {
    const s = parseLookupSinkConfig(base);
    expect(s.entity).toBe('erp.document');
    expect(s.ledger).toBe(s.lookup);
    expect(s.versionHeader).toBe('erpstream.version');
    expect(s.destination).toMatchObject({
      type: 'kafka',
      name: 'default',
      deleteMode: 'delete',
      keyColumns: ['document_id'],
    });
    expect(s.batchSize).toBe(500);
  });

  it('parses the three dependency types', () => {
    const s = parseLookupSinkConfig({
      ...base,
      'destination.name': 'crm',
      dependencies: 'owner,registered,hasDomain',
      'dependencies.owner.type': 'ledger',
      'dependencies.owner.entity': 'person',
      'dependencies.owner.id.field': 'person_id',
      'dependencies.registered.type': 'sql',
      'dependencies.registered.query': 'SELECT 1 FROM erp.document_domain WHERE document_id = :id AND domain = :domain',
      'dependencies.hasDomain.type': 'field',
      'dependencies.hasDomain.field': 'domain',
    });
    const none = { topics: [], topicIdFields: [] };
    expect(s.dependencies).toEqual([
      {
        name: 'owner',
        type: 'ledger',
        entity: 'person',
        destination: 'crm',
        idFields: ['person_id'],
        expires: true,
        ...none,
      },
      {
        name: 'registered',
        type: 'sql',
        query: expect.objectContaining({ names: ['id', 'domain'] }),
        expires: true,
        ...none,
      },
      // A registration field waits without expiring: "not for this customer yet" is no error.
      { name: 'hasDomain', type: 'field', field: 'domain', expires: false, ...none },
    ]);
  });

  it('parses dependency topics, their id fields and expiry', () => {
    const s = parseLookupSinkConfig({
      ...base,
      dependencies: 'registered',
      'dependencies.registered.type': 'field',
      'dependencies.registered.field': 'domain',
      'dependencies.registered.topic': 'erp.erp.document_domain, erp.erp.other',
      'dependencies.registered.topic.id.field': 'after.document_id',
      'dependencies.registered.expires': 'true',
    });
    expect(s.dependencies[0]).toMatchObject({
      topics: ['erp.erp.document_domain', 'erp.erp.other'],
      topicIdFields: ['after.document_id'],
      expires: true,
    });
    expect(s.destination.withdrawMode).toBe('delete');
    expect(
      configError({
        ...base,
        dependencies: 'r',
        'dependencies.r.type': 'field',
        'dependencies.r.field': 'd',
        'dependencies.r.expires': 'maybe',
      }).key,
    ).toBe('dependencies.r.expires');
    expect(
      configError({
        ...base,
        dependencies: 'r',
        'dependencies.r.type': 'field',
        'dependencies.r.field': 'd',
        'dependencies.r.topic.id.field': 'a,b',
      }).message,
    ).toMatch(/one field per key column/);
    // A dependency topic the connector does not consume could never wake anything.
    expect(
      configError({
        ...base,
        topics: 'erp.erp.document',
        dependencies: 'r',
        'dependencies.r.type': 'field',
        'dependencies.r.field': 'd',
        'dependencies.r.topic': 'erp.erp.document_domain',
      }).key,
    ).toBe('dependencies.r.topic');
  });

  it('names the key in errors, and never shows a password', () => {
    expect(configError({ ...base, 'lookup.query': 'SELECT * FROM t WHERE id IN (:ids)' }).message).toMatch(
      /exactly one of lookup.table and lookup.query/,
    );
    expect(configError({ ...base, 'lookup.table': '', 'lookup.query': 'SELECT 1' }).key).toBe('lookup.table');
    const noIds = configError({
      ...base,
      'lookup.table': undefined as never,
      'lookup.query': 'SELECT * FROM t',
      'entity.name': 'x',
    });
    expect(noIds.key).toBe('lookup.query');
    expect(noIds.message).toMatch(/must use :ids/);
    expect(configError({ ...base, dependencies: 'a', 'dependencies.a.type': 'magic' }).message).toMatch(
      /dependencies.a.type.*ledger, sql, field/,
    );
    expect(configError({ ...base, dependencies: 'a', 'dependencies.a.type': 'ledger' }).key).toBe(
      'dependencies.a.entity',
    );
    expect(configError({ ...base, 'destination.topic': undefined as never }).key).toBe('destination.topic');
    expect(configError({ ...base, 'destination.type': 'ftp' }).key).toBe('destination.type');
    const bad = configError({ ...base, 'lookup.connection.url': 'oracle://u:secret@db/x' });
    expect(bad.key).toBe('lookup.connection.url');
    expect(bad.message).not.toContain('secret');
    expect(configError({ ...base, 'lookup.key.columns': 'id; DROP TABLE x' }).key).toBe('lookup.key.columns');
    expect(configError({ ...base, 'lookup.id.field': 'a,b' }).message).toMatch(/one field per key column/);
  });

  it('the connector reports cross-field problems on the key through validate()', async () => {
    const results = await lookupSinkPlugin.create().validate!({
      ...base,
      'lookup.query': 'SELECT 1 WHERE x IN (:ids)',
    });
    expect(results).toHaveLength(1);
    expect(results[0]!.name).toBe('lookup.query');
    expect(results[0]!.errors[0]).toMatch(/exactly one/);
  });
});
