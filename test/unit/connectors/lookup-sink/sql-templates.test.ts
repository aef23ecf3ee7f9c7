import { describe, expect, it } from 'vitest';
import { bindTemplate, compileTemplate } from '../../../../connectors/lookup-sink/sql/named-params.js';
import { guardedUpsert } from '../../../../connectors/lookup-sink/sql/ddl.js';
import type { SqlClient } from '../../../../connectors/lookup-sink/sql/client.js';
import { compileTopicTemplate, renderTemplate } from '../../../../connectors/lookup-sink/template.js';
import { ConfigError, DataError } from '../../../../runtime/api/index.js';

describe('named SQL parameters', () => {
  it('expands :ids to bound parameters and leaves casts, strings and comments alone', () => {
    const t = compileTemplate(
      'lookup.query',
      "SELECT d.*, ':nope' AS s, x::text /* :nope */ FROM d -- :nope\nWHERE d.id IN (:ids) AND d.kind = :kind",
    );
    expect(t.names).toEqual(['ids', 'kind']);
    const { sql, params } = bindTemplate(t, (n) =>
      n === 'ids' ? { list: [['1'], ['2'], ['3']] } : { one: "x'); DROP" },
    );
    expect(sql).toBe(
      "SELECT d.*, ':nope' AS s, x::text /* :nope */ FROM d -- :nope\nWHERE d.id IN (?, ?, ?) AND d.kind = ?",
    );
    expect(params).toEqual(['1', '2', '3', "x'); DROP"]);
  });

  it('expands compound ids to row tuples', () => {
    const t = compileTemplate('q', 'SELECT * FROM t WHERE (a, b) IN (:ids)');
    expect(
      bindTemplate(t, () => ({
        list: [
          ['1', 'x'],
          ['2', 'y'],
        ],
      })),
    ).toEqual({
      sql: 'SELECT * FROM t WHERE (a, b) IN ((?, ?), (?, ?))',
      params: ['1', 'x', '2', 'y'],
    });
  });

  it('refuses positional placeholders', () => {
    expect(() => compileTemplate('q', 'SELECT * FROM t WHERE id = ?')).toThrow(ConfigError);
  });
});

describe('guarded upsert', () => {
  const client = (kind: SqlClient['kind']) =>
    ({ kind, quote: (s: string) => (kind === 'mysql' ? `\`${s}\`` : `"${s}"`) }) as unknown as SqlClient;

  it('PostgreSQL only updates when the stored version is lower', () => {
    const sql = guardedUpsert(client('postgresql'), 't', ['id', 'name', 'v'], ['id'], 'v', 2);
    expect(sql).toBe(
      'INSERT INTO "t" AS cur ("id", "name", "v") VALUES (?, ?, ?), (?, ?, ?) ON CONFLICT ("id") DO UPDATE SET ' +
        '"name" = EXCLUDED."name", "v" = EXCLUDED."v" WHERE cur."v" IS NULL OR cur."v" < EXCLUDED."v"',
    );
  });

  it('MySQL guards every column and assigns the version last', () => {
    const sql = guardedUpsert(client('mysql'), 't', ['id', 'name', 'v'], ['id'], 'v', 1);
    expect(sql).toBe(
      'INSERT INTO `t` (`id`, `name`, `v`) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE ' +
        '`name` = IF((`v` IS NULL OR `v` < VALUES(`v`)), VALUES(`name`), `name`), ' +
        '`v` = IF((`v` IS NULL OR `v` < VALUES(`v`)), VALUES(`v`), `v`)',
    );
  });
});

describe('topic and table templates', () => {
  const t = compileTopicTemplate('destination.topic', '${domain}.documents');
  it('renders from row fields', () => {
    expect(renderTemplate(t, { DOMAIN: 'acme' }, {})).toBe('acme.documents');
    expect(renderTemplate(compileTopicTemplate('k', '${entity}-${id}'), {}, { entity: 'doc', id: '7' })).toBe('doc-7');
  });
  it('refuses missing values and unsafe name parts with a DataError naming the field', () => {
    expect(() => renderTemplate(t, { domain: null }, {})).toThrow(DataError);
    expect(() => renderTemplate(t, { domain: 'a/b' }, {})).toThrow(
      'destination.topic template "${domain}.documents": value "a/b" of ${domain} is not a safe name part',
    );
    // A large value is quoted shortened: the message goes to the log and the DLQ headers.
    expect(() => renderTemplate(t, { domain: `/${'a'.repeat(1_000_000)}` }, {})).toThrow(
      `destination.topic template "\${domain}.documents": value "/${'a'.repeat(75)}... of \${domain} is not a safe name part`,
    );
  });
  it('refuses a name longer than what holds it (the ledger 512, a Kafka topic 249) with a DataError, not a failed batch', () => {
    expect(renderTemplate(t, { domain: 'a'.repeat(502) }, {})).toHaveLength(512);
    expect(() => renderTemplate(t, { domain: 'a'.repeat(503) }, {})).toThrow(
      expect.objectContaining({
        code: 'ERPSTREAM_DATA',
        fieldPath: 'domain',
        message: expect.stringMatching(
          /gives a name of 513 characters for this row: at most 512 \(what the ledger holds\)/,
        ),
      }),
    );
    expect(() => renderTemplate(t, { domain: 'a'.repeat(240) }, {}, 249, 'a Kafka topic name may have')).toThrow(
      /250 characters for this row: at most 249 \(what a Kafka topic name may have\)/,
    );
  });
});
