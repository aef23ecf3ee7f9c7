import { ConfigError, type Validator } from '../../runtime/api/index.js';

/**
 * A focused java.text.SimpleDateFormat, always in UTC (TimestampConverter and TimestampRouter set UTC),
 * English names (the locale Connect workers almost always run with).
 *
 * Supported letters: y (year; `yy` = two digits), M / L (month: 1–2 numeric, 3 short name, 4+ full
 * name), d (day of month), D (day of year), E (day name), u (ISO day number, 1 = Monday), a (AM/PM),
 * H (0–23), k (1–24), K (0–11), h (1–12), m, s, S (milliseconds — as in Java, `SSSSSS` is the millisecond
 * count padded to six digits, not microseconds), z (`UTC`), Z (`+0000`), X (`Z`), and quoted literals
 * (`'T'`, `''` for a quote). Java's other letters (G, Y, w, W, F) are refused with a ConfigError naming the
 * key; letters Java does not know are refused as Java refuses them.
 *
 * Parsing follows Java's lenient defaults: fields left out default to 1970-01-01T00:00:00.000Z, values
 * overflow into the next unit (month 13 = January of the next year), whitespace before a field is skipped,
 * digits of adjacent numeric fields are split by the pattern's widths, an offset (`Z`, `+01:00`, `+0100`,
 * `GMT+1`) in the text shifts the result, and text after the pattern is ignored (`parse(String)` does not
 * require the whole input). Deviation: dates before 1582-10-15 use the proleptic Gregorian calendar
 * (Java switches to the Julian calendar there).
 */
export interface JavaDateFormat {
  readonly pattern: string;
  /** Formats epoch milliseconds in UTC. */
  format(epochMs: number): string;
  /** Parses text to epoch milliseconds, or returns null where Java would throw ParseException. */
  parse(text: string): number | null;
}

type Token = { kind: 'literal'; text: string } | { kind: 'field'; letter: string; count: number };

const SUPPORTED = 'yMLdDEuaHkKhmsSzZX';
const JAVA_UNSUPPORTED: Record<string, string> = {
  G: 'era',
  Y: 'week year',
  w: 'week in year',
  W: 'week in month',
  F: 'day of week in month',
};
const NUMERIC = new Set([...'ydDuHkKhmsS']);
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MS_PER_DAY = 86_400_000;

class PatternError extends Error {}

function tokenize(pattern: string): Token[] {
  const tokens: Token[] = [];
  let lit = '';
  const flush = (): void => {
    if (lit) tokens.push({ kind: 'literal', text: lit });
    lit = '';
  };
  for (let i = 0; i < pattern.length;) {
    const ch = pattern[i]!;
    if (ch === "'") {
      if (pattern[i + 1] === "'") {
        lit += "'";
        i += 2;
        continue;
      }
      let j = i + 1;
      for (;;) {
        if (j >= pattern.length) throw new PatternError('Unterminated quote');
        if (pattern[j] === "'") {
          if (pattern[j + 1] === "'") {
            lit += "'";
            j += 2;
            continue;
          }
          break;
        }
        lit += pattern[j];
        j += 1;
      }
      i = j + 1;
      continue;
    }
    if (/[a-zA-Z]/.test(ch)) {
      if (JAVA_UNSUPPORTED[ch]) {
        throw new PatternError(
          `pattern letter '${ch}' (${JAVA_UNSUPPORTED[ch]}) is not supported; supported letters: ${[...SUPPORTED].join(' ')}`,
        );
      }
      if (!SUPPORTED.includes(ch)) throw new PatternError(`Illegal pattern character '${ch}'`);
      let count = 1;
      while (pattern[i + count] === ch) count += 1;
      if (ch === 'X' && count > 3) throw new PatternError('invalid ISO 8601 format: length=' + count);
      flush();
      tokens.push({ kind: 'field', letter: ch, count });
      i += count;
      continue;
    }
    lit += ch;
    i += 1;
  }
  flush();
  return tokens;
}

function pad(n: number, width: number): string {
  const s = String(Math.abs(n));
  return (n < 0 ? '-' : '') + (s.length >= width ? s : '0'.repeat(width - s.length) + s);
}

function formatField(letter: string, count: number, d: Date): string {
  const hour = d.getUTCHours();
  switch (letter) {
    case 'y': {
      const y = d.getUTCFullYear();
      const yearOfEra = y > 0 ? y : 1 - y;
      return count === 2 ? pad(yearOfEra % 100, 2) : pad(yearOfEra, count);
    }
    case 'M':
    case 'L': {
      const m = d.getUTCMonth();
      if (count >= 4) return MONTHS[m]!;
      if (count === 3) return MONTHS[m]!.slice(0, 3);
      return pad(m + 1, count);
    }
    case 'd':
      return pad(d.getUTCDate(), count);
    case 'D': {
      // setUTCFullYear, not Date.UTC: the latter maps years 0–99 to 1900–1999.
      const jan1 = new Date(0);
      jan1.setUTCFullYear(d.getUTCFullYear(), 0, 1);
      return pad(Math.floor((d.getTime() - jan1.getTime()) / MS_PER_DAY) + 1, count);
    }
    case 'E':
      return count >= 4 ? DAYS[d.getUTCDay()]! : DAYS[d.getUTCDay()]!.slice(0, 3);
    case 'u':
      return pad(d.getUTCDay() === 0 ? 7 : d.getUTCDay(), count);
    case 'a':
      return hour < 12 ? 'AM' : 'PM';
    case 'H':
      return pad(hour, count);
    case 'k':
      return pad(hour === 0 ? 24 : hour, count);
    case 'K':
      return pad(hour % 12, count);
    case 'h':
      return pad(hour % 12 === 0 ? 12 : hour % 12, count);
    case 'm':
      return pad(d.getUTCMinutes(), count);
    case 's':
      return pad(d.getUTCSeconds(), count);
    case 'S':
      return pad(d.getUTCMilliseconds(), count);
    case 'z':
      return count >= 4 ? 'Coordinated Universal Time' : 'UTC';
    case 'Z':
      return '+0000';
    default:
      return 'Z';
  }
}

interface Parsed {
  year?: number;
  twoDigitYear?: boolean;
  month?: number;
  day?: number;
  dayOfYear?: number;
  hour24?: number;
  hour12?: number;
  pm?: boolean;
  minute?: number;
  second?: number;
  millis?: number;
  offsetMinutes?: number;
}

function matchName(text: string, pos: number, names: readonly string[]): { index: number; end: number } | null {
  const lower = text.toLowerCase();
  // Full names first, so "March" is not read as "Mar" + "ch".
  for (const len of [Infinity, 3]) {
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!.slice(0, len).toLowerCase();
      if (lower.startsWith(name, pos)) return { index: i, end: pos + name.length };
    }
  }
  return null;
}

/** `Z`, `UTC`, `GMT`, `UT`, optionally followed by ±H, ±HH, ±HHmm or ±HH:mm; or the bare offset. */
function matchZone(text: string, pos: number): { minutes: number; end: number } | null {
  const rest = text.slice(pos);
  const m = /^(?:(Z)(?![A-Za-z])|(?:UTC|GMT|UT)?([+-])(\d{1,2})(?::?(\d{2}))?|(UTC|GMT|UT))/i.exec(rest);
  if (!m) return null;
  if (m[1] || m[5]) return { minutes: 0, end: pos + m[0].length };
  const minutes = Number(m[3]) * 60 + Number(m[4] ?? 0);
  return { minutes: m[2] === '-' ? -minutes : minutes, end: pos + m[0].length };
}

function parseText(tokens: readonly Token[], text: string): number | null {
  const p: Parsed = {};
  let pos = 0;
  for (let t = 0; t < tokens.length; t++) {
    const tok = tokens[t]!;
    if (tok.kind === 'literal') {
      if (!text.startsWith(tok.text, pos)) return null;
      pos += tok.text.length;
      continue;
    }
    while (text[pos] === ' ' || text[pos] === '\t') pos += 1;
    const { letter, count } = tok;
    const numeric = NUMERIC.has(letter) || ((letter === 'M' || letter === 'L') && count <= 2);
    if (numeric) {
      // Java obeys the width only when another field follows directly ("yyyyMMdd").
      const next = tokens[t + 1];
      const max = next?.kind === 'field' ? count : Infinity;
      let end = pos;
      while (end < text.length && end - pos < max && text.charCodeAt(end) >= 48 && text.charCodeAt(end) <= 57) end++;
      if (end === pos) return null;
      const n = Number(text.slice(pos, end));
      switch (letter) {
        case 'y':
          p.year = n;
          p.twoDigitYear = count <= 2 && end - pos === 2;
          break;
        case 'M':
        case 'L':
          p.month = n - 1;
          break;
        case 'd':
          p.day = n;
          break;
        case 'D':
          p.dayOfYear = n;
          break;
        case 'H':
          p.hour24 = n;
          break;
        case 'k':
          p.hour24 = n === 24 ? 0 : n;
          break;
        case 'K':
        case 'h':
          p.hour12 = n === 12 && letter === 'h' ? 0 : n;
          break;
        case 'm':
          p.minute = n;
          break;
        case 's':
          p.second = n;
          break;
        case 'S':
          p.millis = n;
          break;
        default:
          // 'u' (day number) does not move the date in lenient parsing of a full date.
          break;
      }
      pos = end;
      continue;
    }
    if (letter === 'M' || letter === 'L') {
      const m = matchName(text, pos, MONTHS);
      if (!m) return null;
      p.month = m.index;
      pos = m.end;
    } else if (letter === 'E') {
      const m = matchName(text, pos, DAYS);
      if (!m) return null;
      pos = m.end;
    } else if (letter === 'a') {
      const m = matchName(text, pos, ['AM', 'PM']);
      if (!m) return null;
      p.pm = m.index === 1;
      pos = m.end;
    } else {
      const z = matchZone(text, pos);
      if (!z) return null;
      p.offsetMinutes = z.minutes;
      pos = z.end;
    }
  }
  let year = p.year ?? 1970;
  if (p.twoDigitYear) {
    // SimpleDateFormat's default century: the 100 years starting 80 years before now.
    const start = new Date().getUTCFullYear() - 80;
    year = start - (start % 100) + year;
    if (year < start) year += 100;
  }
  const useDayOfYear = p.dayOfYear !== undefined && p.day === undefined && p.month === undefined;
  const hour = p.hour24 ?? (p.hour12 ?? 0) + (p.pm ? 12 : 0);
  const d = new Date(0);
  d.setUTCFullYear(year, useDayOfYear ? 0 : (p.month ?? 0), useDayOfYear ? p.dayOfYear! : (p.day ?? 1));
  d.setUTCHours(hour, p.minute ?? 0, p.second ?? 0, p.millis ?? 0);
  const ms = d.getTime() - (p.offsetMinutes ?? 0) * 60_000;
  return Number.isFinite(ms) ? ms : null;
}

/** Compiles a SimpleDateFormat pattern; a pattern we cannot honour exactly is a ConfigError naming the key. */
export function compileJavaDateFormat(pattern: string, key: string): JavaDateFormat {
  let tokens: Token[];
  try {
    tokens = tokenize(pattern);
  } catch (e) {
    throw ConfigError.invalid(key, pattern, `not a supported SimpleDateFormat pattern: ${(e as Error).message}`);
  }
  return {
    pattern,
    format(epochMs) {
      const d = new Date(epochMs);
      if (Number.isNaN(d.getTime())) throw new RangeError(`Timestamp ${epochMs} is outside the supported date range`);
      return tokens.map((t) => (t.kind === 'literal' ? t.text : formatField(t.letter, t.count, d))).join('');
    },
    parse(text) {
      return parseText(tokens, text);
    },
  };
}

/** Validates a SimpleDateFormat pattern at config time (blank passes: the SMT decides if one is needed). */
export function javaDateFormatValidator(): Validator {
  return {
    ensureValid(name, value) {
      if (typeof value === 'string' && value.trim() !== '') compileJavaDateFormat(value, name);
    },
    describe: () => 'SimpleDateFormat pattern',
  };
}
