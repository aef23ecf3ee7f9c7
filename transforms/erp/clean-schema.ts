import {
  ConfigDef,
  ConfigError,
  type ConnectRecord,
  DataError,
  Decimal,
  DecimalType,
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
} from '../../runtime/api/index.js';
import { optionalCopy, structBuilderLike } from '../debezium/struct-utils.js';
import { PLUGIN_VERSION, type PlainObject } from '../support.js';
import { mergeFileOptions, pairsToMap, parsePairs, readMappingFile } from './config-helpers.js';
import { NAME_CASES, type NameCase, applyCase, stripPrefix } from './field-names.js';
import { type RowChange, RowMapper } from './row-mapping.js';

/**
 * erpstream's CleanSchema: makes CRM/ERP-style rows readable — renames (explicit and by rule), trimmed
 * strings, blanks as null, Y/N flags as booleans, numeric strings as exact decimals, dropped columns.
 * Works on the value's top-level fields (nested structs are copied as they are); when the value is a
 * Debezium envelope it cleans the `before` and `after` rows.
 */

const CLASS_NAME = 'erpstream.transforms.CleanSchema';
const MAX_CACHED_NAMES = 10_000;

const LIST_KEYS = new Set([
  'renames',
  'strip.prefixes',
  'boolean.fields',
  'boolean.true.values',
  'boolean.false.values',
  'decimal.fields',
  'drop.fields',
]);
const PAIR_KEYS = new Set(['renames', 'decimal.fields']);

export const cleanSchemaConfig = new ConfigDef()
  .define({
    name: 'renames',
    type: 'LIST',
    defaultValue: '',
    importance: 'HIGH',
    documentation: 'Explicit renames, source:target. An explicit target is used as is (no prefix or case rule).',
    example: 'SHPMT_NO:shipmentNo,KUNNR:customerId',
  })
  .define({
    name: 'strip.prefixes',
    type: 'LIST',
    defaultValue: '',
    importance: 'MEDIUM',
    documentation:
      'Prefixes removed from field names not renamed explicitly (longest match first). Names starting with ' +
      '__ (Debezium metadata such as __deleted) keep their name.',
    example: 'Z_,ZZ_',
  })
  .define({
    name: 'case',
    type: 'STRING',
    defaultValue: 'none',
    importance: 'MEDIUM',
    validator: Validators.in(...NAME_CASES),
    documentation:
      'Case applied after stripping prefixes: camel (Z_CUST_CD → custCd), snake (dtUpdt → dt_updt), lower, upper, none.',
    example: 'camel',
  })
  .define({
    name: 'trim.strings',
    type: 'BOOLEAN',
    defaultValue: true,
    importance: 'MEDIUM',
    documentation: 'Trim leading and trailing whitespace of string values (CHAR columns are space-padded).',
  })
  .define({
    name: 'blank.to.null',
    type: 'BOOLEAN',
    defaultValue: true,
    importance: 'MEDIUM',
    documentation: 'Empty or whitespace-only strings become null; string fields become optional in the schema.',
  })
  .define({
    name: 'boolean.fields',
    type: 'LIST',
    defaultValue: '',
    importance: 'MEDIUM',
    documentation:
      'Fields converted to boolean (by source or target name). A value in neither list is a DataError naming the field and value.',
    example: 'ACTIVE_FLG,Z_DELETED',
  })
  .define({
    name: 'boolean.true.values',
    type: 'LIST',
    defaultValue: 'Y,1,T,TRUE,J',
    importance: 'LOW',
    documentation: 'Values read as true (case-insensitive, after trimming).',
  })
  .define({
    name: 'boolean.false.values',
    type: 'LIST',
    defaultValue: 'N,0,F,FALSE',
    importance: 'LOW',
    documentation: 'Values read as false (case-insensitive, after trimming).',
  })
  .define({
    name: 'decimal.fields',
    type: 'LIST',
    defaultValue: '',
    importance: 'MEDIUM',
    documentation:
      'Fields converted to exact Decimal with a scale, field:scale. Input is a plain numeric string ("1234.50"); ' +
      'grouping or comma decimals ("1.234,50") and values needing rounding are DataErrors naming the field.',
    example: 'NET_AMT:2,QTY:3',
  })
  .define({
    name: 'drop.fields',
    type: 'LIST',
    defaultValue: '',
    importance: 'MEDIUM',
    documentation: 'Fields removed (by source or target name).',
    example: 'MANDT,Z_FILLER',
  })
  .define({
    name: 'mapping.file',
    type: 'STRING',
    defaultValue: null,
    importance: 'MEDIUM',
    documentation:
      'A YAML or JSON file with any of the options above (lists as sequences, renames/decimal.fields as ' +
      'mappings). Merged with the config: list entries are combined, and config keys win.',
    example: '/etc/erpstream/shipment-clean.yaml',
  });

interface Options {
  renames: Map<string, string>;
  prefixes: string[];
  nameCase: NameCase;
  trim: boolean;
  blankToNull: boolean;
  booleans: Set<string>;
  trueValues: Set<string>;
  falseValues: Set<string>;
  decimals: Map<string, number>;
  drops: Set<string>;
}

export function cleanSchemaOptions(props: RawConfig): Options {
  const fileKey = 'mapping.file';
  const path = props[fileKey];
  const merged =
    typeof path === 'string' && path.trim() !== ''
      ? mergeFileOptions(
          fileKey,
          readMappingFile(fileKey, path.trim()),
          props,
          LIST_KEYS,
          PAIR_KEYS,
          cleanSchemaConfig.names(),
        )
      : props;
  const c = cleanSchemaConfig.parse(merged);
  const decimals = new Map<string, number>();
  for (const [name, scaleText] of parsePairs('decimal.fields', c.list('decimal.fields'), 'field:scale')) {
    const scale = Number(scaleText);
    if (!/^\d+$/.test(scaleText) || scale > 1000) {
      throw ConfigError.invalid('decimal.fields', `${name}:${scaleText}`, 'the scale must be a whole number 0..1000');
    }
    decimals.set(name, scale);
  }
  const booleans = new Set(c.list('boolean.fields'));
  for (const b of booleans) {
    if (decimals.has(b)) throw ConfigError.invalid('boolean.fields', b, 'the field is also listed in decimal.fields');
  }
  const upper = (xs: string[]) => new Set(xs.map((x) => x.toUpperCase()));
  const trueValues = upper(c.list('boolean.true.values'));
  for (const f of upper(c.list('boolean.false.values'))) {
    if (trueValues.has(f)) throw ConfigError.invalid('boolean.false.values', f, 'the value is also a true value');
  }
  return {
    renames: pairsToMap('renames', c.list('renames'), 'source:target'),
    prefixes: c.list('strip.prefixes'),
    nameCase: c.string('case') as NameCase,
    trim: c.bool('trim.strings'),
    blankToNull: c.bool('blank.to.null'),
    booleans,
    trueValues,
    falseValues: upper(c.list('boolean.false.values')),
    decimals,
    drops: new Set(c.list('drop.fields')),
  };
}

type Kind = 'copy' | 'string' | 'boolean' | 'decimal';
interface FieldPlan {
  readonly from: string;
  readonly to: string;
  readonly kind: Kind;
  readonly scale: number;
  readonly schema: Schema | null;
}

/** A converted (not merely copied) field, resolved to positions. */
interface FieldConversion {
  readonly from: Field;
  readonly to: Field;
  readonly kind: Kind;
  readonly scale: number;
}

interface RowPlan {
  readonly schema: Schema;
  /** The fields copied unchanged, position to position. */
  readonly copy: StructCopyPlan;
  readonly conversions: readonly FieldConversion[];
}

class CleanSchema implements Transformation, RowChange {
  private o!: Options;
  private readonly plans = new WeakMap<Schema, RowPlan>();
  private readonly names = new Map<string, string | null>();
  private readonly rows = new RowMapper(this, 'CleanSchema');

  configure(props: RawConfig): void {
    this.o = cleanSchemaOptions(props);
  }

  apply(record: ConnectRecord): ConnectRecord {
    return this.rows.apply(record);
  }

  close(): void {}

  rowSchema(input: Schema): Schema {
    const plan = this.planFor(input);
    this.plans.set(plan.schema, plan);
    return plan.schema;
  }

  struct(row: Struct, output: Schema): Struct {
    const plan = this.plans.get(output)!;
    const out = new Struct(output).copyFields(row, plan.copy);
    const conversions = plan.conversions;
    for (let i = 0; i < conversions.length; i++) {
      const c = conversions[i]!;
      out.putAt(c.to, this.convert(c.from.name, c.kind, c.scale, row.rawAt(c.from)));
    }
    return out;
  }

  object(row: PlainObject): PlainObject {
    const out: PlainObject = {};
    const seen = new Map<string, string>();
    for (const [from, v] of Object.entries(row)) {
      const to = this.targetName(from);
      if (to === null) continue;
      claimName(seen, to, from);
      const { kind, scale } = this.kindOf(from, to, typeof v === 'string');
      out[to] = this.convert(from, kind, scale, v);
    }
    return out;
  }

  /** The target name of a source field, or null when it is dropped. */
  private targetName(from: string): string | null {
    const cached = this.names.get(from);
    if (cached !== undefined) return cached;
    const explicit = this.o.renames.get(from);
    // Debezium metadata (__deleted, __op, __source_ts_ms) keeps its conventional name.
    const ruled = from.startsWith('__') ? from : applyCase(stripPrefix(from, this.o.prefixes), this.o.nameCase);
    const to = explicit ?? ruled;
    const result = this.o.drops.has(from) || this.o.drops.has(to) ? null : to;
    // Schemaless rows may carry ever-new keys; keep the name cache bounded.
    if (this.names.size >= MAX_CACHED_NAMES) this.names.clear();
    this.names.set(from, result);
    return result;
  }

  private kindOf(from: string, to: string, isString: boolean): { kind: Kind; scale: number } {
    if (this.o.booleans.has(from) || this.o.booleans.has(to)) return { kind: 'boolean', scale: 0 };
    const scale = this.o.decimals.get(from) ?? this.o.decimals.get(to);
    if (scale !== undefined) return { kind: 'decimal', scale };
    return { kind: isString ? 'string' : 'copy', scale: 0 };
  }

  private planFor(schema: Schema): RowPlan {
    const fields: FieldPlan[] = [];
    const b = structBuilderLike(schema);
    const seen = new Map<string, string>();
    for (const f of schema.fields ?? []) {
      const to = this.targetName(f.name);
      if (to === null) continue;
      claimName(seen, to, f.name);
      const isString = f.schema.type === 'string' && f.schema.name === undefined;
      const { kind, scale } = this.kindOf(f.name, to, isString);
      const mayBlank = isString && this.o.blankToNull;
      const optional = f.schema.optional || mayBlank;
      const target =
        kind === 'boolean'
          ? optional
            ? Schemas.OPTIONAL_BOOLEAN
            : Schemas.BOOLEAN
          : kind === 'decimal'
            ? DecimalType.builder(scale).optional(optional).build()
            : mayBlank
              ? optionalCopy(f.schema)
              : f.schema;
      b.field(to, target);
      fields.push({ from: f.name, to, kind, scale, schema: target });
    }
    const output = b.build();
    const copies: Array<readonly [Field, Field]> = [];
    const conversions: FieldConversion[] = [];
    for (const p of fields) {
      const from = field(schema, p.from)!;
      const to = field(output, p.to)!;
      if (p.kind === 'copy') copies.push([from, to]);
      else conversions.push({ from, to, kind: p.kind, scale: p.scale });
    }
    return { schema: output, copy: new StructCopyPlan(schema, output, copies), conversions };
  }

  private convert(fieldName: string, kind: Kind, scale: number, raw: unknown): unknown {
    // Named string types (Json, Uuid, ZonedTimestamp) are copied untouched: their text is their value.
    if (kind === 'copy') return raw ?? null;
    let v = raw;
    if (typeof v === 'string' && (this.o.trim || this.o.blankToNull)) {
      const trimmed = v.trim();
      if (this.o.trim) v = trimmed;
      if (this.o.blankToNull && trimmed === '') v = null;
    }
    if (v === null || v === undefined || kind === 'string') return v ?? null;
    return kind === 'boolean' ? this.toBoolean(fieldName, v) : toDecimal(fieldName, v, scale);
  }

  private toBoolean(fieldName: string, v: unknown): boolean {
    if (typeof v === 'boolean') return v;
    const text = String(v).trim().toUpperCase();
    if (this.o.trueValues.has(text)) return true;
    if (this.o.falseValues.has(text)) return false;
    throw new DataError(
      `CleanSchema: field "${fieldName}" has value ${describeValue(v)}, which is in neither boolean.true.values ` +
        `[${[...this.o.trueValues].join(',')}] nor boolean.false.values [${[...this.o.falseValues].join(',')}]`,
      fieldName,
    );
  }
}

/** Records that `from` becomes `to`; two fields becoming one name is an error naming both. */
function claimName(seen: Map<string, string>, to: string, from: string): void {
  const clash = seen.get(to);
  if (clash !== undefined) {
    throw new DataError(`CleanSchema: fields "${clash}" and "${from}" would both be named "${to}"`, from);
  }
  seen.set(to, from);
}

// One way to read any text: `\d+\.?\d*` split a run of digits every way before giving up on a letter after it (a
// value of 30,000 digits and a letter took 0.6 s, a 1 MB one most of an hour).
const PLAIN_DECIMAL = /^[+-]?(\d+(?:\.\d*)?|\.\d+)$/;

function toDecimal(fieldName: string, v: unknown, scale: number): Decimal {
  const fail = (reason: string, cause?: unknown): never => {
    throw new DataError(
      `CleanSchema: field "${fieldName}" has value ${describeValue(v)}, which is not a decimal with scale ${scale}: ${reason}`,
      fieldName,
      { cause },
    );
  };
  try {
    if (v instanceof Decimal) return v.setScale(scale);
    if (typeof v === 'bigint') return Decimal.fromBigInt(v, scale);
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return fail('not a finite number');
      // A float's shortest round-trip text is the decimal it stands for; no arithmetic touches it.
      return Decimal.parse(String(v), undefined).setScale(scale);
    }
    if (typeof v === 'string') {
      const text = v.trim();
      if (!PLAIN_DECIMAL.test(text)) {
        return fail(
          /[.,]\d{3}[.,]|,/.test(text)
            ? 'use a plain number like 1234.50 (no grouping or comma decimals)'
            : 'not a number',
        );
      }
      return Decimal.parse(text).setScale(scale);
    }
  } catch (e) {
    if (e instanceof DataError && e.fieldPath === fieldName) throw e;
    return fail((e as Error).message, e);
  }
  return fail(`unsupported type ${typeof v}`);
}

export const cleanSchemaPlugin: TransformationPlugin = {
  type: 'transformation',
  className: CLASS_NAME,
  aliases: ['CleanSchema'],
  version: PLUGIN_VERSION,
  config: cleanSchemaConfig,
  summary: 'Cleans ERP-style rows: renames, prefix/case rules, trimming, blank→null, Y/N→boolean, exact decimals',
  example: {
    'transforms.clean.type': CLASS_NAME,
    'transforms.clean.renames': 'SHPMT_NO:shipmentNo',
    'transforms.clean.strip.prefixes': 'Z_,ZZ_',
    'transforms.clean.case': 'camel',
    'transforms.clean.boolean.fields': 'ACTIVE_FLG',
    'transforms.clean.decimal.fields': 'NET_AMT:2',
  },
  create: () => new CleanSchema(),
};
