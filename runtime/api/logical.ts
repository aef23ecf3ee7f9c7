import { DataError } from './errors.js';
import { type Schema, SchemaBuilder, registerLogicalValidator } from './schema.js';

/**
 * Logical types. Connect's own (Decimal, Date, Time, Timestamp) use JS values with exact semantics;
 * Debezium's time types keep their raw integer/string encoding, as Debezium emits them.
 */

export const DECIMAL_NAME = 'org.apache.kafka.connect.data.Decimal';
export const DATE_NAME = 'org.apache.kafka.connect.data.Date';
export const TIME_NAME = 'org.apache.kafka.connect.data.Time';
export const TIMESTAMP_NAME = 'org.apache.kafka.connect.data.Timestamp';
export const DECIMAL_SCALE_PARAM = 'scale';
/** Debezium/Confluent carry the column's precision here; Avro needs it. */
export const DECIMAL_PRECISION_PARAM = 'connect.decimal.precision';

export const DebeziumTime = {
  DATE: 'io.debezium.time.Date',
  TIME: 'io.debezium.time.Time',
  MICRO_TIME: 'io.debezium.time.MicroTime',
  NANO_TIME: 'io.debezium.time.NanoTime',
  TIMESTAMP: 'io.debezium.time.Timestamp',
  MICRO_TIMESTAMP: 'io.debezium.time.MicroTimestamp',
  NANO_TIMESTAMP: 'io.debezium.time.NanoTimestamp',
  ZONED_TIMESTAMP: 'io.debezium.time.ZonedTimestamp',
  ZONED_TIME: 'io.debezium.time.ZonedTime',
} as const;

export const DebeziumData = {
  UUID: 'io.debezium.data.Uuid',
  JSON: 'io.debezium.data.Json',
  BITS: 'io.debezium.data.Bits',
  VARIABLE_SCALE_DECIMAL: 'io.debezium.data.VariableScaleDecimal',
} as const;

const MS_PER_DAY = 86_400_000;

/**
 * How far a decimal may be scaled by a power of ten (an exponent in its text, a change of scale). 10^n is materialised
 * as a bigint: unbounded, one hostile literal such as `1e999999999` held the worker's thread for minutes (every task,
 * the REST API, the group heartbeats). 20,000 covers PostgreSQL's numeric (scale up to 16,383) and costs ~0.3 ms.
 */
export const MAX_DECIMAL_RESCALE = 20_000;

/**
 * 10^n as a bigint, for scaling decimals: the one place that computes it, refusing `n` past MAX_DECIMAL_RESCALE with
 * a DataError that says what was being scaled (`what`).
 */
export function pow10(n: number, what: () => string): bigint {
  checkScaling(n, what);
  return 10n ** BigInt(n < 0 ? -n : n);
}

function checkScaling(n: number, what: () => string): void {
  if (n > MAX_DECIMAL_RESCALE || n < -MAX_DECIMAL_RESCALE) {
    throw new DataError(
      `${what()} is out of range: a decimal is scaled by at most 10^${MAX_DECIMAL_RESCALE}. Fix the value at its source, or let errors.tolerance=all route the record to the dead letter queue.`,
    );
  }
}

/**
 * The most unscaled bytes a decimal read from data may have (Decimal.fromBytes): 64 KiB is 157,827 digits, beyond
 * PostgreSQL's numeric (147,455). Unbounded, one record's 1 MB decimal took a second each time it was written as text.
 */
export const MAX_DECIMAL_BYTES = 65_536;
const MAX_DECIMAL_DIGITS = 157_827;

/** What a refused exponent is named in the error: at most 40 characters of a (possibly huge) text. */
const exponentOf = (text: string) =>
  `The exponent of ${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text)}`;

/** An exact decimal: unscaled integer and scale. Never passes through a JS float. */
export class Decimal {
  readonly unscaled: bigint;
  readonly scale: number;

  constructor(unscaled: bigint, scale: number) {
    if (!Number.isInteger(scale)) throw new DataError(`Decimal scale must be an integer, got ${scale}`);
    // The scale comes from data too (a schema in a JSON record, a registry schema, Debezium's VariableScaleDecimal):
    // unbounded, one record of scale 400000000 made a 400 MB string wherever the value was written as text.
    if (scale > MAX_DECIMAL_RESCALE || scale < -MAX_DECIMAL_RESCALE)
      throw new DataError(
        `Decimal scale ${scale} is out of range: at most ${MAX_DECIMAL_RESCALE} either way (PostgreSQL's numeric goes to 16383). Fix the schema at its source, or let errors.tolerance=all route the record to the dead letter queue.`,
      );
    this.unscaled = unscaled;
    this.scale = scale;
  }

  /** Parses "-12345678901234.5678", "1e-3", "42". The scale is the number of fraction digits unless given. */
  static parse(text: string, scale?: number): Decimal {
    // Trimmed first: with `\s*` at both ends of the pattern, text of n spaces and a letter backtracked n² steps (30,000
    // spaces: 1.4 s; a 1 MB value: most of an hour).
    const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text.trim());
    if (!m || (m[2] === '' && (m[3] ?? '') === ''))
      throw new DataError(`Not a decimal number: ${JSON.stringify(text)}`);
    const sign = m[1] === '-' ? -1n : 1n;
    const intPart = m[2] ?? '';
    const frac = m[3] ?? '';
    const exp = m[4] ? Number(m[4]) : 0;
    // Checked before the digits are read; a negative exponent computes no power here, but every later rescale would.
    // Text without one (a database's numeric) pays nothing.
    if (exp !== 0) checkScaling(exp, () => exponentOf(text));
    let unscaled = BigInt((intPart + frac).replace(/^0+(?=\d)/, '') || '0') * sign;
    let s = frac.length - exp;
    if (s < 0) {
      unscaled *= pow10(-s, () => exponentOf(text));
      s = 0;
    }
    const d = new Decimal(unscaled, s);
    return scale === undefined ? d : d.setScale(scale);
  }

  static fromBigInt(value: bigint, scale = 0): Decimal {
    return new Decimal(value * pow10(scale, () => `Scale ${scale}`), scale);
  }

  /** Rescale; rounds HALF_UP when reducing scale only if `round` is set, otherwise throws on precision loss. */
  setScale(scale: number, round = false): Decimal {
    if (scale === this.scale) return this;
    const div = pow10(scale - this.scale, () => `Rescaling a decimal of scale ${this.scale} to scale ${scale}`);
    if (scale > this.scale) return new Decimal(this.unscaled * div, scale);
    const q = this.unscaled / div;
    const r = this.unscaled % div;
    if (r !== 0n && !round) {
      throw new DataError(`Decimal ${this.toString()} cannot be represented with scale ${scale} without rounding`);
    }
    const half = div / 2n;
    const abs = r < 0n ? -r : r;
    const adj = abs >= half && r !== 0n ? (this.unscaled < 0n ? -1n : 1n) : 0n;
    return new Decimal(q + adj, scale);
  }

  /** Number of significant digits of the unscaled value. */
  precision(): number {
    const abs = this.unscaled < 0n ? -this.unscaled : this.unscaled;
    return abs === 0n ? 1 : abs.toString().length;
  }

  toString(): string {
    const neg = this.unscaled < 0n;
    const digits = (neg ? -this.unscaled : this.unscaled).toString();
    if (this.scale <= 0) return (neg ? '-' : '') + digits + '0'.repeat(-this.scale);
    const padded = digits.padStart(this.scale + 1, '0');
    const i = padded.length - this.scale;
    return `${neg ? '-' : ''}${padded.slice(0, i)}.${padded.slice(i)}`;
  }

  toJSON(): string {
    return this.toString();
  }

  /** Lossy, for display and float casts only. */
  toNumber(): number {
    return Number(this.toString());
  }

  equals(other: unknown): boolean {
    return other instanceof Decimal && other.unscaled === this.unscaled && other.scale === this.scale;
  }

  compareTo(other: Decimal): number {
    const s = Math.max(this.scale, other.scale);
    const a = this.setScale(s).unscaled;
    const b = other.setScale(s).unscaled;
    return a < b ? -1 : a > b ? 1 : 0;
  }

  /** Big-endian two's complement of the unscaled value, minimal length (Java BigInteger.toByteArray). */
  toBytes(): Buffer {
    return bigintToTwosComplement(this.unscaled);
  }

  /**
   * From the unscaled value's two's complement bytes (Connect's and Avro's decimal encoding), which come from data:
   * more than MAX_DECIMAL_BYTES is a DataError naming the size.
   */
  static fromBytes(bytes: Uint8Array, scale: number): Decimal {
    if (bytes.length > MAX_DECIMAL_BYTES) {
      throw new DataError(
        `A decimal of ${bytes.length} bytes is too large: at most ${MAX_DECIMAL_BYTES} bytes (${MAX_DECIMAL_DIGITS} digits; PostgreSQL's numeric has at most 147455). Fix the value at its source, or let errors.tolerance=all route the record to the dead letter queue.`,
      );
    }
    return new Decimal(twosComplementToBigint(bytes), scale);
  }
}

/**
 * Bytes past which the byte-at-a-time loops below give way to native hex conversion. Each step of those loops copies
 * the whole bigint, so they are quadratic: a 300 KB decimal in a record held the thread for a minute. Below this they
 * are faster than building a hex string (most money fits in 8 bytes).
 */
const SMALL_TWOS_COMPLEMENT = 16;

export function bigintToTwosComplement(value: bigint): Buffer {
  const out: number[] = [];
  let v = value;
  // Emit bytes little-endian until the remaining value is pure sign extension of the last byte.
  for (;;) {
    const byte = Number(v & 0xffn);
    out.push(byte);
    v >>= 8n;
    const signBit = (byte & 0x80) !== 0;
    if ((v === 0n && !signBit) || (v === -1n && signBit)) break;
    if (out.length === SMALL_TWOS_COMPLEMENT) return largeTwosComplement(value);
  }
  return Buffer.from(out.reverse());
}

/**
 * Same bytes as bigintToTwosComplement, through native hex formatting: linear in the size of the value, and faster
 * than the byte loop past a few bytes.
 */
export function largeTwosComplement(value: bigint): Buffer {
  // Bytes needed: the magnitude's hex digits (of -value-1 when negative), plus a sign bit.
  const magnitudeHex = (value < 0n ? -value - 1n : value).toString(16);
  const topNibble = parseInt(magnitudeHex[0]!, 16);
  const len = Math.ceil(magnitudeHex.length / 2) + (magnitudeHex.length % 2 === 0 && topNibble >= 8 ? 1 : 0);
  return Buffer.from(
    BigInt.asUintN(len * 8, value)
      .toString(16)
      .padStart(len * 2, '0'),
    'hex',
  );
}

export function twosComplementToBigint(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  let v = 0n;
  if (bytes.length <= SMALL_TWOS_COMPLEMENT) for (const b of bytes) v = (v << 8n) | BigInt(b);
  else v = BigInt(`0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`);
  if ((bytes[0]! & 0x80) !== 0) v -= 1n << BigInt(bytes.length * 8);
  return v;
}

export const DecimalType = {
  builder(scale: number, precision?: number): SchemaBuilder {
    const b = SchemaBuilder.bytes().name(DECIMAL_NAME).version(1).parameter(DECIMAL_SCALE_PARAM, String(scale));
    if (precision !== undefined) b.parameter(DECIMAL_PRECISION_PARAM, String(precision));
    return b;
  },
  schema(scale: number, precision?: number): Schema {
    return DecimalType.builder(scale, precision).build();
  },
  scaleOf(schema: Schema): number {
    const s = schema.parameters?.[DECIMAL_SCALE_PARAM];
    if (s === undefined) throw new DataError(`Invalid Decimal schema: scale parameter not found.`);
    return Number(s);
  },
  precisionOf(schema: Schema): number | undefined {
    const p = schema.parameters?.[DECIMAL_PRECISION_PARAM];
    return p === undefined ? undefined : Number(p);
  },
};

/**
 * The most milliseconds from 1970 a JS Date holds (100,000,000 days either way). Java's Date goes further: a Timestamp
 * or Date from data beyond this became an Invalid Date, written back as an uncoded RangeError or as "NaN-NaN-NaN" text.
 */
const MAX_DATE_MS = 8.64e15;

function dateOf(ms: number, what: () => string): Date {
  if (!(ms >= -MAX_DATE_MS && ms <= MAX_DATE_MS)) {
    throw new DataError(
      `${what()} is beyond the dates JavaScript can hold (8640000000000000 ms either way of 1970, years -271821 to 275760); fix the value at its source, or let errors.tolerance=all route the record to the dead letter queue`,
    );
  }
  return new Date(ms);
}

/** A Date's milliseconds; an Invalid Date (built outside these types) is a DataError, not NaN. */
function msOf(date: Date, type: string): number {
  const ms = date.getTime();
  if (Number.isNaN(ms)) throw new DataError(`An invalid Date cannot be written as a Kafka Connect ${type}`);
  return ms;
}

export const DateType = {
  builder: (): SchemaBuilder => SchemaBuilder.int32().name(DATE_NAME).version(1),
  schema: (): Schema => DateType.builder().build(),
  /** days since epoch → Date at UTC midnight */
  toLogical(days: number): Date {
    return dateOf(days * MS_PER_DAY, () => `Date ${days} (days)`);
  },
  fromLogical(date: Date): number {
    const ms = msOf(date, 'Date');
    if (ms % MS_PER_DAY !== 0) {
      throw new DataError(`Kafka Connect Date type should not have any time fields set to non-zero values.`);
    }
    return ms / MS_PER_DAY;
  },
};

export const TimeType = {
  builder: (): SchemaBuilder => SchemaBuilder.int32().name(TIME_NAME).version(1),
  schema: (): Schema => TimeType.builder().build(),
  /** ms since midnight → Date on 1970-01-01 UTC */
  toLogical(ms: number): Date {
    // Java's Time.toLogical refuses these on read too (and the bound is inclusive there).
    if (!(ms >= 0 && ms <= MS_PER_DAY)) {
      throw new DataError(
        `Time values must use number of milliseconds greater than 0 and less than 86400000, got ${ms}`,
      );
    }
    return new Date(ms);
  },
  fromLogical(date: Date): number {
    const ms = date.getTime();
    if (ms < 0 || ms >= MS_PER_DAY) {
      throw new DataError(`Kafka Connect Time type should not have any date fields set to non-zero values.`);
    }
    return ms;
  },
};

export const TimestampType = {
  builder: (): SchemaBuilder => SchemaBuilder.int64().name(TIMESTAMP_NAME).version(1),
  schema: (): Schema => TimestampType.builder().build(),
  toLogical(ms: bigint | number): Date {
    return dateOf(Number(ms), () => `Timestamp ${ms} (ms)`);
  },
  fromLogical(date: Date): bigint {
    return BigInt(msOf(date, 'Timestamp'));
  },
};

export const DebeziumTypes = {
  microTimestamp: (): SchemaBuilder => SchemaBuilder.int64().name(DebeziumTime.MICRO_TIMESTAMP).version(1),
  nanoTimestamp: (): SchemaBuilder => SchemaBuilder.int64().name(DebeziumTime.NANO_TIMESTAMP).version(1),
  timestamp: (): SchemaBuilder => SchemaBuilder.int64().name(DebeziumTime.TIMESTAMP).version(1),
  zonedTimestamp: (): SchemaBuilder => SchemaBuilder.string().name(DebeziumTime.ZONED_TIMESTAMP).version(1),
  date: (): SchemaBuilder => SchemaBuilder.int32().name(DebeziumTime.DATE).version(1),
  microTime: (): SchemaBuilder => SchemaBuilder.int64().name(DebeziumTime.MICRO_TIME).version(1),
  uuid: (): SchemaBuilder => SchemaBuilder.string().name(DebeziumData.UUID).version(1),
  json: (): SchemaBuilder => SchemaBuilder.string().name(DebeziumData.JSON).version(1),
};

export function isLogical(schema: Schema | null | undefined, name: string): boolean {
  return schema?.name === name;
}

registerLogicalValidator(DECIMAL_NAME, (v) => v instanceof Decimal);
registerLogicalValidator(DATE_NAME, (v) => v instanceof Date);
registerLogicalValidator(TIME_NAME, (v) => v instanceof Date);
registerLogicalValidator(TIMESTAMP_NAME, (v) => v instanceof Date);
