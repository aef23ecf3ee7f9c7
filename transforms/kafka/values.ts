import {
  DateType,
  Decimal,
  DecimalType,
  MAX_DECIMAL_RESCALE,
  type SchemaAndValue,
  Schemas,
  TimeType,
  TimestampType,
  pow10,
} from '../../runtime/api/index.js';
import { compileJavaDateFormat } from './java-date-format.js';

/**
 * Connect's `Values.parseString` for a top-level literal (what InsertHeader does with `value.literal`):
 *
 * - `null` → no schema, null value; `true` / `false` → BOOLEAN (case-sensitive, surrounding blanks ignored);
 * - an integer → the smallest of INT8, INT16, INT32 (number) or INT64 (bigint) that holds it exactly —
 *   `1.0` and `1e3` are integers too, as with BigDecimal's `*ValueExact`;
 * - another number → FLOAT32 when it has a non-zero scale and fits a float, else FLOAT64, else an exact
 *   Decimal (an integer beyond int64 is a Decimal with scale 0). The FLOAT32 value keeps the literal's
 *   double value (Java would round it to float precision);
 * - ISO-8601 `yyyy-MM-dd` → Date, `HH:mm:ss.SSS'Z'` → Time, `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'` → Timestamp (UTC);
 * - anything else, including blank text, → STRING, unchanged.
 *
 * Not supported (kept as STRING): array `[…]` and map `{…}` literals, which Connect parses into ARRAY/MAP.
 * Connect also reads only the first token of something like `1,2` (INT8 1); we take the whole text as a
 * number or else as a string.
 */
export function parseString(value: string | null): SchemaAndValue {
  if (value === null) return { schema: null, value: null };
  if (value === '') return { schema: Schemas.STRING, value };
  const token = value.trim();
  if (token === '') return { schema: Schemas.STRING, value };
  if (token === 'null') return { schema: null, value: null };
  if (token === 'true') return { schema: Schemas.BOOLEAN, value: true };
  if (token === 'false') return { schema: Schemas.BOOLEAN, value: false };
  const first = token[0]!;
  const firstIsDigit = first >= '0' && first <= '9';
  if (firstIsDigit) {
    const temporal = parseTemporal(token);
    if (temporal) return temporal;
  }
  if (firstIsDigit || first === '+' || first === '-') {
    const number = parseNumber(token);
    if (number) return number;
  }
  return { schema: Schemas.STRING, value };
}

const ISO_DATE = compileJavaDateFormat('yyyy-MM-dd', 'value.literal');
const ISO_TIME = compileJavaDateFormat("HH:mm:ss.SSS'Z'", 'value.literal');
const ISO_TIMESTAMP = compileJavaDateFormat("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", 'value.literal');

function parseTemporal(token: string): SchemaAndValue | null {
  // Connect picks the candidate pattern by the literal's length, then parses leniently.
  const [format, schema] =
    token.length === 13
      ? [ISO_TIME, TimeType.schema()]
      : token.length === 24
        ? [ISO_TIMESTAMP, TimestampType.schema()]
        : token.length === 10
          ? [ISO_DATE, DateType.schema()]
          : [null, null];
  if (!format) return null;
  const ms = format.parse(token);
  return ms === null ? null : { schema, value: new Date(ms) };
}

const INT_BOUNDS: ReadonlyArray<[bigint, bigint, SchemaAndValue['schema']]> = [
  [-128n, 127n, Schemas.INT8],
  [-32768n, 32767n, Schemas.INT16],
  [-2147483648n, 2147483647n, Schemas.INT32],
];
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const FLOAT32_MAX = 3.4028234663852886e38;

/** Java's `new BigDecimal(token)` grammar, then Connect's choice of the narrowest type. */
function parseNumber(token: string): SchemaAndValue | null {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(token);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return null;
  const frac = m[3] ?? '';
  const exponent = m[4] === undefined ? 0 : Number(m[4]);
  const scale = frac.length - exponent;
  const unscaled = BigInt(`${m[1] === '-' ? '-' : ''}${(m[2] ?? '') + frac || '0'}`);
  // A scale past the bound cannot be an integer worth computing (nor fit int64 unless zero): it stays a decimal.
  const pow = Math.abs(scale) <= MAX_DECIMAL_RESCALE ? pow10(scale, () => token) : null;
  const integral = pow === null ? null : scale <= 0 ? unscaled * pow : unscaled % pow === 0n ? unscaled / pow : null;
  if (integral !== null) {
    for (const [lo, hi, schema] of INT_BOUNDS) {
      if (integral >= lo && integral <= hi) return { schema, value: Number(integral) };
    }
    if (integral >= INT64_MIN && integral <= INT64_MAX) return { schema: Schemas.INT64, value: integral };
  }
  if (scale !== 0) {
    const asDouble = Number(token);
    if (Math.abs(asDouble) <= FLOAT32_MAX) return { schema: Schemas.FLOAT32, value: asDouble };
    if (Number.isFinite(asDouble)) return { schema: Schemas.FLOAT64, value: asDouble };
  }
  const decimal = new Decimal(unscaled, scale);
  return { schema: DecimalType.schema(scale), value: decimal };
}
