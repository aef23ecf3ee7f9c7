import {
  ConfigError,
  DataError,
  Decimal,
  Headers,
  type RecordTransforms,
  type SinkRecord,
  type SinkTaskContext,
  Struct,
  jsTypeOf,
} from '../../runtime/api/index.js';
import { DELIVERY_PREFIX, type DestinationType } from './config.js';
import { ENTITY_HEADER, ID_HEADER, VERSION_HEADER } from './record-fields.js';
import type { ShapedRecord } from './destinations/destination.js';
import { exactJson } from './json.js';
import type { Row } from './sql/client.js';
import { JsonText } from '../shared/sql/index.js';

// The shape destinations write lives with the destination contract; re-exported for the shaper's callers.
export type { ShapedRecord };

function isPlainRow(value: unknown): value is Row {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * The row as delivery transforms see it: a plain map (transforms never modify their input, but the row may come
 * from a driver's own row class), json/jsonb columns parsed into maps, lists and scalars as they always were, so a
 * transform can reach into them (Flatten, ExtractField). Without transforms they travel as the database's text.
 */
function transformableRow(row: Row): Row {
  let out: Row | null = isPlainRow(row) ? null : (Object.assign({}, row as object) as Row);
  for (const [k, v] of Object.entries(row)) {
    if (!(v instanceof JsonText)) continue;
    out ??= { ...row };
    out[k] = JSON.parse(v.text) as unknown;
  }
  return out ?? row;
}

/** A column value a database driver can bind: exact types as their text, nested values as JSON. */
function columnValue(v: unknown): unknown {
  if (v instanceof Decimal) return v.toString();
  if (v instanceof Struct || v instanceof Map || Array.isArray(v) || isPlainRow(v)) return exactJson(v);
  return v;
}

/** The shaped value as a row for the jdbc destination; anything but a struct or a map cannot be one. */
function columnsOf(value: unknown): Row {
  const entries: Array<[string, unknown]> =
    value instanceof Struct
      ? (value.schema.fields ?? []).map((f) => [f.name, value.getWithoutDefault(f.name)])
      : value instanceof Map
        ? [...value].map(([k, v]) => [String(k), v])
        : isPlainRow(value)
          ? Object.entries(value)
          : [];
  if (entries.length === 0 && !(value instanceof Struct || value instanceof Map || isPlainRow(value))) {
    throw new DataError(
      `delivery.transforms produced a ${jsTypeOf(value)} value; the jdbc destination needs a struct or a map (columns)`,
    );
  }
  const row: Row = {};
  for (const [k, v] of entries) row[k] = columnValue(v);
  return row;
}

/**
 * Runs the delivery chain (`delivery.transforms`) on each ready row before the destination encodes it. The chain
 * is built by the runtime (SinkTaskContext.transforms): the sink only names its keys. The record it sees: value =
 * the looked-up row (schemaless map), key = the entity id, headers = erpstream.version / entity / id, topic = the
 * resolved target (topic, table or URL).
 */
export class DeliveryShaper {
  private constructor(
    private readonly chain: RecordTransforms<SinkRecord>,
    private readonly entity: string,
    private readonly destinationType: DestinationType,
  ) {}

  /** Null when no delivery transforms are configured. */
  static async open(
    context: SinkTaskContext,
    props: Readonly<Record<string, string>>,
    settings: { deliveryTransforms: readonly string[]; entity: string; destination: { type: DestinationType } },
  ): Promise<DeliveryShaper | null> {
    if (settings.deliveryTransforms.length === 0) return null;
    if (!context.transforms) {
      throw new ConfigError(
        'delivery.transforms needs a runtime that builds transform chains for tasks (SinkTaskContext.transforms); ' +
          'this one does not: run the sink on the erpstream worker, or remove delivery.transforms',
        'delivery.transforms',
      );
    }
    const chain = await context.transforms(props, DELIVERY_PREFIX);
    return new DeliveryShaper(chain, settings.entity, settings.destination.type);
  }

  /** The record the destination writes, or null when the chain dropped it. Throws what the chain throws. */
  shape(row: Row, entityId: string, version: bigint, target: string, source: SinkRecord | null): ShapedRecord | null {
    const record: SinkRecord = {
      topic: target,
      kafkaPartition: source?.kafkaPartition ?? 0,
      keySchema: null,
      key: entityId,
      valueSchema: null,
      value: transformableRow(row),
      timestamp: source?.timestamp ?? Date.now(),
      timestampType: 'CreateTime',
      headers: Headers.of({
        [VERSION_HEADER]: version.toString(),
        [ENTITY_HEADER]: this.entity,
        [ID_HEADER]: entityId,
      }),
      kafkaOffset: source?.kafkaOffset ?? -1n,
      originalTopic: source?.originalTopic ?? target,
      originalKafkaPartition: source?.originalKafkaPartition ?? 0,
      originalKafkaOffset: source?.originalKafkaOffset ?? -1n,
    };
    const out = this.chain.apply(record);
    if (out === null) return null;
    const shaped = { key: out.key, value: out.value, headers: out.headers };
    return this.destinationType === 'jdbc' ? { ...shaped, row: columnsOf(out.value) } : shaped;
  }

  close(): Promise<void> {
    return this.chain.close();
  }
}
