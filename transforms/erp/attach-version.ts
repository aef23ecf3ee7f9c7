import {
  ConfigDef,
  ConfigError,
  type ConnectRecord,
  DataError,
  Decimal,
  Headers,
  type Field,
  type RawConfig,
  type Schema,
  Schemas,
  Struct,
  StructCopyPlan,
  type Transformation,
  type TransformationPlugin,
  Validators,
  describeValue,
  field,
  isSourceRecord,
  isTombstone,
} from '../../runtime/api/index.js';
import { structBuilderLike } from '../debezium/struct-utils.js';
import { PLUGIN_VERSION, SchemaCache, isPlainObject } from '../support.js';
import { findField } from './record-fields.js';

/**
 * erpstream's AttachVersion: puts the source version (sequence, rowversion, CT version, LSN number) of a
 * record into a header — and optionally a value field — as the decimal text of an integer, so consumers
 * compare versions exactly (BigInt) and drop stale or repeated events. Never the Kafka offset.
 */

const CLASS_NAME = 'erpstream.transforms.AttachVersion';

export const attachVersionConfig = new ConfigDef()
  .define({
    name: 'version.source',
    type: 'STRING',
    defaultValue: 'offset',
    importance: 'HIGH',
    validator: Validators.in('offset', 'field', 'header'),
    documentation:
      "Where the version comes from: offset (a key of the source record's source offset), field (a value " +
      'field, dotted paths and Debezium envelopes understood) or header.',
  })
  .define({
    name: 'offset.key',
    type: 'STRING',
    defaultValue: 'version',
    importance: 'MEDIUM',
    documentation: 'The source-offset key holding the version (version.source=offset).',
  })
  .define({
    name: 'version.field',
    type: 'STRING',
    defaultValue: null,
    importance: 'MEDIUM',
    documentation:
      'The field holding the version (version.source=field), e.g. ROW_VERSION, or source.sequence in an ' +
      'envelope; a field not found in the value is looked up in the changed row (after, or before for deletes).',
    example: 'ROW_VERSION',
  })
  .define({
    name: 'version.header',
    type: 'STRING',
    defaultValue: null,
    importance: 'MEDIUM',
    documentation: 'The header holding the version (version.source=header); the last one wins.',
  })
  .define({
    name: 'header.name',
    type: 'STRING',
    defaultValue: 'erpstream.version',
    importance: 'MEDIUM',
    validator: Validators.nonEmptyString(),
    documentation: 'The header written, replacing any header of that name.',
  })
  .define({
    name: 'field.name',
    type: 'STRING',
    defaultValue: null,
    importance: 'LOW',
    documentation:
      'Also write the version into this top-level value field (an optional string field is added to the ' +
      'schema). Tombstones get the header only.',
    example: 'version',
  })
  .define({
    name: 'on.missing',
    type: 'STRING',
    defaultValue: 'fail',
    importance: 'MEDIUM',
    validator: Validators.in('fail', 'skip'),
    documentation: 'A record without a version: fail (DataError) or skip (passed on unchanged).',
  });

const MAX_VERSION_BYTES = 16;

/**
 * The version as integer text. Accepts integers of any JS form: bigint, safe numbers, integer strings,
 * scale-free Decimals, and big-endian unsigned bytes (SQL Server rowversion/binary(8)).
 */
export function versionText(raw: unknown, where: string): string {
  const bad = (why: string): never => {
    throw new DataError(`AttachVersion: ${where} holds ${describeValue(raw)}, which ${why}`, where);
  };
  if (typeof raw === 'bigint') return raw.toString();
  if (typeof raw === 'number') {
    if (!Number.isSafeInteger(raw)) bad('is not an integer a JS number holds exactly (store it as int64 or text)');
    return String(raw);
  }
  if (typeof raw === 'string') {
    const t = raw.trim();
    if (!/^[+-]?\d+$/.test(t)) bad('is not an integer');
    return BigInt(t).toString();
  }
  if (raw instanceof Decimal) {
    if (raw.setScale(0, true).compareTo(raw) !== 0) bad('has a fraction');
    return raw.setScale(0).unscaled.toString();
  }
  if (raw instanceof Uint8Array) {
    if (raw.length === 0 || raw.length > MAX_VERSION_BYTES) bad(`is not 1..${MAX_VERSION_BYTES} bytes`);
    let v = 0n;
    for (const b of raw) v = (v << 8n) | BigInt(b);
    return v.toString();
  }
  return bad('is not an integer');
}

/** Per input struct schema: the output schema, the copy of the input's fields and the version field. */
interface FieldPlan {
  readonly copy: StructCopyPlan;
  readonly versionField: Field;
}

class AttachVersion implements Transformation {
  private source = 'offset';
  private offsetKey = 'version';
  private versionField: string | null = null;
  private versionHeader: string | null = null;
  private headerName = 'erpstream.version';
  private fieldName: string | null = null;
  private skipMissing = false;
  /** Where the version is read, as errors name it. */
  private where = '';
  /** Per value schema, the top-level field holding the version when version.field is a plain name. */
  private readonly versionFields = new SchemaCache<{ field: Field | null }>();
  private readonly fieldPlans = new SchemaCache<FieldPlan>();

  configure(props: RawConfig): void {
    const c = attachVersionConfig.parse(props);
    this.source = c.string('version.source');
    this.offsetKey = c.string('offset.key');
    this.versionField = c.stringOrNull('version.field') || null;
    this.versionHeader = c.stringOrNull('version.header') || null;
    if (this.source === 'field' && !this.versionField) throw ConfigError.missing('version.field');
    if (this.source === 'header' && !this.versionHeader) throw ConfigError.missing('version.header');
    this.headerName = c.string('header.name');
    this.fieldName = c.stringOrNull('field.name') || null;
    this.skipMissing = c.string('on.missing') === 'skip';
    this.where =
      this.source === 'offset'
        ? `source offset key "${this.offsetKey}"`
        : this.source === 'field'
          ? `field "${this.versionField}"`
          : `header "${this.versionHeader}"`;
  }

  apply(record: ConnectRecord): ConnectRecord {
    // A tombstone has no fields: with version.source=field it passes on as it came.
    if (this.source === 'field' && isTombstone(record)) return record;
    const found = this.read(record);
    if (found === null || found === undefined) {
      if (this.skipMissing) return record;
      throw new DataError(`AttachVersion: no version in ${this.where} of the record on ${record.topic}`, this.where);
    }
    const version = versionText(found, this.where);
    const headers = Headers.set(record.headers, this.headerName, version, Schemas.STRING);
    if (this.fieldName === null || isTombstone(record)) return { ...record, headers };
    const value = record.value;
    if (value instanceof Struct) {
      const plan = this.fieldPlans.getOrCompute(value.schema, (s) => fieldPlan(s, this.fieldName!));
      const out = new Struct(plan.copy.target).copyFields(value, plan.copy).putAt(plan.versionField, version);
      return { ...record, headers, valueSchema: plan.copy.target, value: out };
    }
    const name = this.fieldName;
    if (isPlainObject(value)) return { ...record, headers, value: { ...value, [name]: version } };
    throw new DataError(`AttachVersion: cannot add field "${name}" to ${describeValue(value)}`, name);
  }

  close(): void {}

  /** The raw version, null or undefined when the record has none. */
  private read(record: ConnectRecord): unknown {
    switch (this.source) {
      case 'offset':
        if (!isSourceRecord(record)) {
          throw new DataError(
            `AttachVersion: version.source=offset needs a source record (${record.topic} is not one)`,
          );
        }
        return record.sourceOffset[this.offsetKey];
      case 'field': {
        const value = record.value;
        if (value instanceof Struct) {
          // A plain name that is a top-level field: read it by position (the common case, per record).
          const name = this.versionField!;
          const top = this.versionFields.getOrCompute(value.schema, (s) => ({
            field: name.includes('.') ? null : (field(s, name) ?? null),
          }));
          if (top.field !== null) return value.rawAt(top.field);
        }
        return findField(record.valueSchema, value, this.versionField!)?.value;
      }
      default:
        return Headers.last(record.headers, this.versionHeader!)?.value;
    }
  }
}

/** The output schema (the input's, plus an optional string field unless it has one) and how to fill it. */
function fieldPlan(schema: Schema, name: string): FieldPlan {
  const existing = field(schema, name);
  if (existing && existing.schema.type !== 'string') {
    throw new DataError(`AttachVersion: field.name "${name}" exists as ${existing.schema.type}, not string`, name);
  }
  const target = existing ? schema : withVersionField(schema, name);
  const pairs = (schema.fields ?? []).map((f) => [f, target.fields![f.index]!] as const);
  return { copy: new StructCopyPlan(schema, target, pairs), versionField: field(target, name)! };
}

function withVersionField(schema: Schema, name: string): Schema {
  const b = structBuilderLike(schema);
  for (const f of schema.fields ?? []) b.field(f.name, f.schema);
  return b.field(name, Schemas.OPTIONAL_STRING).build();
}

export const attachVersionPlugin: TransformationPlugin = {
  type: 'transformation',
  className: CLASS_NAME,
  aliases: ['AttachVersion'],
  version: PLUGIN_VERSION,
  config: attachVersionConfig,
  summary: 'Puts the source version (exact integer text) into the erpstream.version header and optionally a field',
  example: {
    'transforms.version.type': CLASS_NAME,
    'transforms.version.version.source': 'offset',
    'transforms.version.offset.key': 'version',
  },
  create: () => new AttachVersion(),
};
