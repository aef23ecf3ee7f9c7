import type pg from 'pg';
import { requireEnv } from '../../env.js';
import { sinkRecord } from './harness.js';

/**
 * The documented single-connector case: documents (`<schema>.document`) registered to customers
 * (`<schema>.document_domain`), read with a LEFT JOIN so a document registered to several customers is one row per
 * customer and an unregistered one a row without a domain; the registration table's change topic is declared on the
 * dependency. Tests add the destination (and anything of their own) to `lookupProps()`.
 */
export function registeredDocuments(schema: string) {
  const docTopic = `erp.${schema}.document`;
  const regTopic = `erp.${schema}.document_domain`;
  return {
    schema,
    docTopic,
    regTopic,
    async create(db: pg.Client): Promise<void> {
      await db.query(`CREATE SCHEMA ${schema}`);
      await db.query(`CREATE TABLE ${schema}.document (document_id int PRIMARY KEY, title text NOT NULL)`);
      await db.query(
        `CREATE TABLE ${schema}.document_domain (document_id int NOT NULL, domain text NOT NULL, PRIMARY KEY (document_id, domain))`,
      );
    },
    async drop(db: pg.Client): Promise<void> {
      await db.query(`DROP SCHEMA ${schema} CASCADE`);
    },
    /** The lookup, the registration dependency, the ledger and the park (checked by the test, not by a timer). */
    lookupProps(): Record<string, string> {
      return {
        'lookup.connection.url': requireEnv('PG_URL'),
        'lookup.query':
          `SELECT d.*, dd.domain FROM ${schema}.document d ` +
          `LEFT JOIN ${schema}.document_domain dd ON dd.document_id = d.document_id WHERE d.document_id IN (:ids)`,
        'lookup.key.columns': 'document_id',
        'entity.name': 'document',
        dependencies: 'registered',
        'dependencies.registered.type': 'field',
        'dependencies.registered.field': 'domain',
        'dependencies.registered.topic': regTopic,
        'dependencies.registered.topic.id.field': 'document_id',
        'ledger.table': `${schema}.ledger`,
        'park.table': `${schema}.parked`,
        'park.check.interval.ms': '3600000',
      };
    },
    /** The change event of a new registration of document `id` to `domain`. */
    registered(offset: bigint, id: number, domain: string) {
      const key = { document_id: id, domain };
      return sinkRecord({ topic: regTopic, offset, key, value: key });
    },
    /** A Debezium-style delete event of that registration (the id is read from `before`), then its tombstone. */
    unregistered(next: () => bigint, id: number, domain: string) {
      const key = { document_id: id, domain };
      return [
        sinkRecord({ topic: regTopic, offset: next(), key, value: { op: 'd', before: key, after: null } }),
        sinkRecord({ topic: regTopic, offset: next(), key, value: null }),
      ];
    },
  };
}
