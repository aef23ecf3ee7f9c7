import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../runtime/api/index.js';
import { compileJavaDateFormat } from '../../../../transforms/kafka/java-date-format.js';

const fmt = (pattern: string) => compileJavaDateFormat(pattern, 'format');
const ts = Date.UTC(2024, 1, 29, 13, 5, 9, 7); // Thursday

describe('SimpleDateFormat (UTC) formatting', () => {
  it('formats numeric fields padded to the letter count', () => {
    expect(fmt("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").format(ts)).toBe('2024-02-29T13:05:09.007Z');
    expect(fmt('yy/M/d H:m:s.S').format(ts)).toBe('24/2/29 13:5:9.7');
    expect(fmt('yyyyMMddHHmmss').format(ts)).toBe('20240229130509');
    expect(fmt('D u').format(ts)).toBe('60 4');
  });

  it('formats the 12-hour clock and names', () => {
    expect(fmt('h:mm a, EEE d MMM yyyy').format(ts)).toBe('1:05 PM, Thu 29 Feb 2024');
    expect(fmt('EEEE, MMMM d').format(ts)).toBe('Thursday, February 29');
    expect(fmt('hh a K k').format(Date.UTC(2024, 0, 1, 0, 30))).toBe('12 AM 0 24');
  });

  it('formats zones as UTC and honours quotes', () => {
    expect(fmt('HH z Z X XXX').format(ts)).toBe('13 UTC +0000 Z Z');
    expect(fmt("'at' HH 'o''clock' ''").format(ts)).toBe("at 13 o'clock '");
  });

  it('formats S as milliseconds, like Java (SSSSSS is not microseconds)', () => {
    expect(fmt('ss.SSSSSS').format(ts)).toBe('09.000007');
  });

  it('formats dates before the epoch', () => {
    expect(fmt('yyyy-MM-dd HH:mm:ss.SSS').format(-1)).toBe('1969-12-31 23:59:59.999');
  });
});

describe('SimpleDateFormat (UTC) lenient parsing', () => {
  it('parses what it formats', () => {
    const f = fmt("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'");
    expect(f.parse('2024-02-29T13:05:09.007Z')).toBe(ts);
    expect(fmt('dd MMMM yyyy, EEEE h:mm a').parse('29 february 2024, Thursday 1:05 pm')).toBe(
      Date.UTC(2024, 1, 29, 13, 5),
    );
  });

  it('splits adjacent numeric fields by width', () => {
    expect(fmt('yyyyMMddHHmm').parse('202402291305')).toBe(Date.UTC(2024, 1, 29, 13, 5));
  });

  it('defaults missing fields to the epoch and overflows out-of-range values', () => {
    expect(fmt('HH:mm').parse('10:30')).toBe(Date.UTC(1970, 0, 1, 10, 30));
    expect(fmt('yyyy-MM-dd').parse('2024-13-01')).toBe(Date.UTC(2025, 0, 1));
  });

  it('applies an offset found in the text', () => {
    expect(fmt('yyyy-MM-dd HH:mm XXX').parse('2024-01-01 10:00 +02:00')).toBe(Date.UTC(2024, 0, 1, 8));
    expect(fmt('yyyy-MM-dd HH:mm Z').parse('2024-01-01 10:00 -0130')).toBe(Date.UTC(2024, 0, 1, 11, 30));
    expect(fmt('yyyy-MM-dd HH:mm z').parse('2024-01-01 10:00 GMT+1')).toBe(Date.UTC(2024, 0, 1, 9));
    expect(fmt('yyyy-MM-dd HH:mm X').parse('2024-01-01 10:00 Z')).toBe(Date.UTC(2024, 0, 1, 10));
  });

  it('ignores text after the pattern and rejects text that does not match it', () => {
    expect(fmt('yyyy-MM-dd').parse('2024-01-15T10:00:00')).toBe(Date.UTC(2024, 0, 15));
    expect(fmt('yyyy-MM-dd').parse('15/01/2024')).toBeNull();
    expect(fmt('yyyy-MM-dd').parse('2024-01')).toBeNull();
    expect(fmt('MMM').parse('Foo')).toBeNull();
  });

  it('maps two-digit years into the century starting 80 years ago', () => {
    const thisYear = new Date().getUTCFullYear();
    expect(new Date(fmt('yy-MM-dd').parse(String(thisYear % 100).padStart(2, '0') + '-01-01')!).getUTCFullYear()).toBe(
      thisYear,
    );
    expect(fmt('yy').parse('2024')).toBe(Date.UTC(2024, 0, 1));
  });
});

describe('SimpleDateFormat patterns', () => {
  it('rejects letters Java has but we do not, and letters Java rejects, naming the key', () => {
    let err: unknown;
    try {
      fmt('G yyyy');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).key).toBe('format');
    expect((err as Error).message).toContain("pattern letter 'G' (era) is not supported");
    expect(() => fmt('yyyy-MM-dd q')).toThrow("Illegal pattern character 'q'");
    expect(() => fmt("yyyy 'unterminated")).toThrow('Unterminated quote');
    expect(() => fmt('XXXX')).toThrow('invalid ISO 8601 format');
  });
});
