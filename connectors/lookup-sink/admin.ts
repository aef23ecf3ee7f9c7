import {
  type AdminLedgerEntry,
  type AdminParkedRecord,
  type ConnectorAdmin,
  DataError,
  type SinkRecord,
} from '../../runtime/api/index.js';
import { type DbSettings, parseLookupSinkConfig } from './config.js';
import { keyBytes } from './destinations/kafka.js';
import { DeliveryLedger, type LedgerEntry, type TargetRef, intentStateOf } from './ledger.js';
import { OriginLookup } from './origin-lookup.js';
import { type ParkedRecord, ParkStore } from './park-store.js';
import { WAITING_PREFIX } from './planner.js';
import { entityIdOf, idOf, idText, parseVersion, versionOf } from './record-fields.js';
import { type SqlClient, openSqlClient } from './sql/client.js';
import { rowValue } from './template.js';

function parkedView(p: ParkedRecord): AdminParkedRecord {
  return {
    entityId: p.entityId,
    version: p.version,
    reason: p.reason,
    waitingOn: p.waitingOn,
    waiting: p.reason.startsWith(WAITING_PREFIX),
    firstParkedAt: p.firstParkedAt,
    nextCheckAt: p.nextCheckAt,
    attempts: p.attempts,
  };
}

/** The Kafka key a ledger target was written under (see KafkaDestination.deliveredKey). */
function kafkaKeyOf(t: TargetRef, entityId: string): Buffer | null {
  const k = t.deliveredKey;
  if (k === null) return Buffer.from(entityId, 'utf8');
  if (k === 'null') return null;
  if (k.startsWith('b64:')) return Buffer.from(k.slice(4), 'base64');
  return keyBytes(entityId);
}

/**
 * The lookup sink's inspection capability (runtime/api/admin.ts): reads its park table, ledger and origin with the
 * connector's own settings, on connections of its own opened when first needed. Read-only.
 */
export async function openLookupSinkAdmin(props: Readonly<Record<string, string>>): Promise<ConnectorAdmin> {
  const s = parseLookupSinkConfig(props);
  const clients = new Map<DbSettings, Promise<SqlClient>>();
  const open = (d: DbSettings): Promise<SqlClient> => {
    let c = clients.get(d);
    if (!c) {
      c = openSqlClient(d);
      clients.set(d, c);
      c.catch(() => clients.delete(d));
    }
    return c;
  };
  let state: Promise<{ ledger: DeliveryLedger; park: ParkStore }> | null = null;
  // No CREATE TABLE here: inspection must not change the database (a missing table reads as empty).
  const stateOf = () =>
    (state ??= open(s.ledger).then((db) => ({
      ledger: new DeliveryLedger(db, s.ledgerTable),
      park: new ParkStore(db, s.parkTable, s.destination.name, s.entity),
    })));
  const missingTable = (e: unknown) =>
    /does not exist|doesn't exist|Invalid object name|no such table/i.test(String(e));
  const orEmpty = async <T>(read: () => Promise<T>, empty: T): Promise<T> => {
    try {
      return await read();
    } catch (e) {
      if (missingTable(e)) return empty;
      throw e;
    }
  };
  const kafka = s.destination.type === 'kafka';
  // Records of a dependency's topic (registrations) name entities to re-evaluate; they are no version of one.
  const dependencyTopics = new Set(s.dependencies.flatMap((d) => d.topics));
  return {
    entity: s.entity,
    destination: s.destination.name,
    destinationType: s.destination.type,
    async parked({ limit }) {
      const { park } = await stateOf();
      return orEmpty(async () => (await park.list(limit)).map(parkedView), []);
    },
    async parkedStats() {
      const { park } = await stateOf();
      const st = await orEmpty(() => park.stats(), { count: 0, waiting: 0, oldestFirstParkedAt: null });
      return { parked: st.count, waiting: st.waiting };
    },
    async parkedFor(ids) {
      const { park } = await stateOf();
      return orEmpty(async () => [...(await park.get(ids)).values()].map(parkedView), []);
    },
    async ledger(ids) {
      const { ledger } = await stateOf();
      const entries = await orEmpty(
        () => ledger.stored(s.destination.name, s.entity, ids),
        new Map<string, LedgerEntry>(),
      );
      const out: AdminLedgerEntry[] = [];
      const now = Date.now();
      for (const [entityId, e] of entries) {
        out.push({
          entityId,
          version: e.version,
          deleted: e.deleted,
          updatedAt: e.updatedAt ?? null,
          targets: e.targets.map((t) => {
            const pending = intentStateOf(t.version, e.updatedAt, now);
            return {
              target: t.target,
              version: t.version,
              ...(kafka ? { kafkaKey: kafkaKeyOf(t, entityId) } : {}),
              ...(pending ? { pending } : {}),
            };
          }),
        });
      }
      return out;
    },
    async origin(id) {
      const lookup = new OriginLookup(await open(s.lookup), s);
      const { rows, poison } = await lookup.rows([idOf(id, s.keyColumns.length)]);
      const err = poison.get(id);
      if (err) throw new DataError(`The origin database refused the key ${id}: ${err.message}`);
      const found = rows.get(id) ?? [];
      let version: bigint | null = null;
      if (s.versionColumn) {
        for (const row of found) {
          const v = rowValue(row, s.versionColumn);
          if (v === null || v === undefined) continue;
          const rv = parseVersion(v, `lookup.version.column ${s.versionColumn}`);
          if (version === null || rv > version) version = rv;
        }
      }
      return { exists: found.length > 0, version };
    },
    identify(record: SinkRecord) {
      if (record.value === null || record.value === undefined) return null;
      if (dependencyTopics.has(record.originalTopic ?? record.topic)) return null;
      try {
        const entityId = idText(entityIdOf(record, s.keyColumns, s.idFields));
        let version: bigint | null = null;
        try {
          version = versionOf(record, s.versionHeader, s.versionField);
        } catch {
          version = null;
        }
        return { entityId, version };
      } catch {
        return null;
      }
    },
    parseKey(key: string) {
      const k = key.trim();
      if (k === '') throw new DataError('The key is empty');
      if (s.keyColumns.length === 1) return k;
      let parts: unknown;
      try {
        parts = JSON.parse(k);
      } catch {
        parts = k.split(',').map((p) => p.trim());
      }
      if (!Array.isArray(parts) || parts.length !== s.keyColumns.length || parts.some((p) => p === null)) {
        throw new DataError(
          `The key of ${s.entity} has ${s.keyColumns.length} parts (${s.keyColumns.join(', ')}): give them as ` +
            `a JSON array or comma-separated`,
        );
      }
      return idText(parts.map((p) => String(p)));
    },
    async close() {
      const all = [...clients.values()];
      clients.clear();
      await Promise.all(all.map(async (c) => (await c.catch(() => null))?.close().catch(() => {})));
    },
  };
}
