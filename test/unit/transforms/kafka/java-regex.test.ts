import { describe, expect, it } from 'vitest';
import { compileJavaRegex } from '../../../../transforms/kafka/java-regex.js';

const full = (pattern: string, input: string) => compileJavaRegex(pattern, 'regex').full.test(input);

describe('Java regex translation', () => {
  it('matches the whole input only (Matcher.matches)', () => {
    expect(full('abc', 'abc')).toBe(true);
    expect(full('abc', 'xabc')).toBe(false);
    expect(full('a|ab', 'ab')).toBe(true);
  });

  it('translates POSIX classes and Unicode properties', () => {
    expect(full('\\p{Alpha}+', 'Orders')).toBe(true);
    expect(full('\\p{Alpha}+', 'Orders1')).toBe(false);
    expect(full('\\p{Lower}\\p{Digit}', 'a1')).toBe(true);
    expect(full('[\\p{Upper}_]+', 'A_B')).toBe(true);
    expect(full('\\P{Digit}+', 'abc')).toBe(true);
    expect(full('\\p{L}+', 'Größe')).toBe(true);
    expect(full('\\p{IsAlphabetic}+', 'Größe')).toBe(true);
  });

  it('translates anchors and escapes Java accepts and JS (u flag) would not', () => {
    expect(full('\\Aabc\\z', 'abc')).toBe(true);
    expect(full('a\\-b\\_c', 'a-b_c')).toBe(true);
    expect(full('a]b}', 'a]b}')).toBe(true);
    expect(full('\\x{41}\\0101\\e', 'AA\x1b')).toBe(true);
    expect(full('(?i)ab', 'AB')).toBe(true);
    expect(full('(?s)a.b', 'a\nb')).toBe(true);
    expect(full('a.b', 'a\nb')).toBe(false);
  });

  it('counts groups and named groups', () => {
    const p = compileJavaRegex('(a)(?:b)(?<c>c)(?=d)', 'regex');
    expect(p.groupCount).toBe(2);
    expect([...p.groupNames]).toEqual(['c']);
  });

  it('rejects what Java would reject', () => {
    expect(() => compileJavaRegex('a{', 'regex')).toThrow(/Illegal repetition/);
    expect(() => compileJavaRegex('\\p{Nope}', 'regex')).toThrow(/unknown character property/);
    expect(() => compileJavaRegex('[abc', 'regex')).toThrow(/unclosed character class/);
    expect(() => compileJavaRegex('\\y', 'regex')).toThrow(/\\y/);
  });
});
