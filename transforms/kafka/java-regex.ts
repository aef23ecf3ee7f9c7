import { ConfigError, type Validator } from '../../runtime/api/index.js';

/**
 * Java regular expressions (java.util.regex.Pattern) and Matcher replacement strings, translated to
 * JavaScript. Users copy RegexRouter/TopicNameMatches configs from Kafka Connect, so a pattern must mean
 * here what it means there — or be refused at configure time, never silently match something else.
 *
 * Translated: `\Q…\E` quoting, `\A` `\z` `\Z`, `\e` `\a`, `\0nn` octal, `\x{h…}`, POSIX classes
 * `\p{Lower}` `\p{Upper}` `\p{Alpha}` `\p{Digit}` `\p{Alnum}` `\p{Punct}` `\p{Space}` `\p{XDigit}`
 * (and `\P{…}`), Unicode categories `\p{L}` `\p{Lu}` `\p{IsAlphabetic}`…, leading inline flags
 * `(?i)` `(?s)` `(?m)`, named groups and back references.
 * Refused with a ConfigError: possessive quantifiers, atomic groups, class intersection/union
 * (`&&`, nested `[…]`), inline flags anywhere but the start, scoped flags `(?i:…)`, comments mode `(?x)`,
 * `\G` `\R` `\X` `\h` `\H` `\v` `\V` and any other escape Java would not accept.
 * Known nuances: `(?i)` folds Unicode case (Java folds ASCII only unless UNICODE_CASE is set); Java's `$`
 * also matches before a final line terminator (irrelevant for topic names, which cannot hold one).
 */
export interface JavaPattern {
  /** The pattern as the user wrote it. */
  readonly source: string;
  /** Java's `matcher.matches()`: the whole input must match. */
  readonly full: RegExp;
  /** Java's `matcher.find()` from the start (what `replaceFirst` replaces). */
  readonly find: RegExp;
  readonly groupCount: number;
  readonly groupNames: ReadonlySet<string>;
}

class RegexSyntaxError extends Error {}

const SYNTAX_CHARS = new Set([...'^$\\.*+?()[]{}|/']);
const POSIX_CLASSES: Record<string, string> = {
  Lower: 'a-z',
  Upper: 'A-Z',
  ASCII: '\\x00-\\x7F',
  Alpha: 'a-zA-Z',
  Digit: '0-9',
  Alnum: 'a-zA-Z0-9',
  Punct: '!-\\/:-@\\[-`{-~',
  Graph: '!-~',
  Print: ' -~',
  Blank: ' \\t',
  Cntrl: '\\x00-\\x1F\\x7F',
  XDigit: '0-9a-fA-F',
  Space: ' \\t\\n\\x0B\\f\\r',
};
const SIMPLE_ESCAPES = new Set([...'dDsSwWbBntrf']);

function hex4(code: number): string {
  return `\\u{${code.toString(16)}}`;
}

/** A literal character written so that it means itself inside or outside a class under the `u` flag. */
function literal(ch: string, inClass: boolean): string {
  if (SYNTAX_CHARS.has(ch) || (inClass && ch === '-')) return `\\${ch}`;
  if (/[\p{L}\p{N} _,:;'"=<>!@#%&~`]/u.test(ch) && ch !== '-') return ch;
  return hex4(ch.codePointAt(0)!);
}

function translate(pattern: string): { source: string; flags: string } {
  let out = '';
  let flags = '';
  let i = 0;
  let inClass = false;
  let classStart = false;
  // Inline flags are accepted only before anything else, where they map to RegExp flags.
  const lead = /^\(\?([a-zA-Z]+)\)/.exec(pattern);
  if (lead) {
    for (const f of lead[1]!) {
      if (f === 'i' || f === 's' || f === 'm') {
        if (!flags.includes(f)) flags += f;
      } else if (f === 'u') {
        // UNICODE_CASE: JS case folding with the `u` flag is already Unicode-aware.
      } else {
        throw new RegexSyntaxError(`inline flag '${f}' is not supported`);
      }
    }
    i = lead[0].length;
  }
  const n = pattern.length;
  while (i < n) {
    const ch = pattern[i]!;
    if (ch === '\\') {
      const next = pattern[i + 1];
      if (next === undefined) throw new RegexSyntaxError('unexpected end of pattern after \\');
      if (next === 'Q') {
        const end = pattern.indexOf('\\E', i + 2);
        const quoted = pattern.slice(i + 2, end === -1 ? n : end);
        for (const c of quoted) out += literal(c, inClass);
        i = end === -1 ? n : end + 2;
        classStart = false;
        continue;
      }
      i += 2;
      classStart = false;
      if (SIMPLE_ESCAPES.has(next)) {
        if (inClass && (next === 'b' || next === 'B')) throw new RegexSyntaxError(`\\${next} inside a character class`);
        out += `\\${next}`;
      } else if (next === 'A') {
        out += '(?<![\\s\\S])';
      } else if (next === 'z') {
        out += '(?![\\s\\S])';
      } else if (next === 'Z') {
        out += '(?=(?:\\r\\n|[\\n\\r\\u0085\\u2028\\u2029])?(?![\\s\\S]))';
      } else if (next === 'e') {
        out += '\\x1B';
      } else if (next === 'a') {
        out += '\\x07';
      } else if (next === '0') {
        const m = /^[0-3]?[0-7]{1,2}|^[0-7]/.exec(pattern.slice(i));
        if (!m) throw new RegexSyntaxError('illegal octal escape sequence');
        out += hex4(parseInt(m[0], 8));
        i += m[0].length;
      } else if (next === 'x') {
        const braced = /^\{([0-9a-fA-F]+)\}/.exec(pattern.slice(i));
        const plain = /^[0-9a-fA-F]{2}/.exec(pattern.slice(i));
        if (braced) {
          out += hex4(parseInt(braced[1]!, 16));
          i += braced[0].length;
        } else if (plain) {
          out += `\\x${plain[0]}`;
          i += 2;
        } else throw new RegexSyntaxError('illegal hexadecimal escape sequence');
      } else if (next === 'u') {
        const m = /^[0-9a-fA-F]{4}/.exec(pattern.slice(i));
        if (!m) throw new RegexSyntaxError('illegal Unicode escape sequence');
        out += `\\u${m[0]}`;
        i += 4;
      } else if (next === 'c') {
        const c = pattern[i];
        if (c === undefined) throw new RegexSyntaxError('illegal control escape sequence');
        out += hex4(c.charCodeAt(0) ^ 64);
        i += 1;
      } else if (next === 'p' || next === 'P') {
        const m = /^\{([A-Za-z_][A-Za-z0-9_=]*)\}|^([A-Z])/.exec(pattern.slice(i));
        if (!m) throw new RegexSyntaxError(`illegal \\${next} escape`);
        const name = m[1] ?? m[2]!;
        i += m[0].length;
        out += propertyClass(name, next === 'P', inClass);
      } else if (next === 'k') {
        const m = /^<([a-zA-Z][a-zA-Z0-9]*)>/.exec(pattern.slice(i));
        if (!m) throw new RegexSyntaxError('\\k is not followed by <name>');
        out += `\\k<${m[1]}>`;
        i += m[0].length;
      } else if (/[1-9]/.test(next)) {
        if (inClass) throw new RegexSyntaxError('back reference inside a character class');
        out += `\\${next}`;
      } else if (/[a-zA-Z]/.test(next)) {
        throw new RegexSyntaxError(`illegal/unsupported escape sequence \\${next}`);
      } else {
        out += literal(next, inClass);
      }
      continue;
    }
    if (inClass) {
      if (ch === '[' && !classStart) throw new RegexSyntaxError('nested character classes (union) are not supported');
      if (ch === '&' && pattern[i + 1] === '&') {
        throw new RegexSyntaxError('character class intersection (&&) is not supported');
      }
      if (ch === ']' && !classStart) inClass = false;
      out += ch === ']' && classStart ? '\\]' : ch;
      // `[^` keeps the class "just opened" so a following `]` is a literal, as in Java.
      classStart = classStart && ch === '^' && pattern[i - 1] === '[';
      i += 1;
      continue;
    }
    if (ch === '[') {
      inClass = true;
      classStart = true;
      out += ch;
      i += 1;
      continue;
    }
    if (ch === '(' && pattern[i + 1] === '?') {
      const rest = pattern.slice(i + 2);
      if (/^(?::|=|!|<=|<!)/.test(rest)) {
        out += '(?';
        i += 2;
        continue;
      }
      const named = /^<([a-zA-Z][a-zA-Z0-9]*)>/.exec(rest);
      if (named) {
        out += `(?<${named[1]}>`;
        i += 2 + named[0].length;
        continue;
      }
      if (rest.startsWith('>')) throw new RegexSyntaxError('atomic groups (?>…) are not supported');
      throw new RegexSyntaxError('inline flags are supported only at the start of the pattern, e.g. (?i)');
    }
    if (ch === '{') {
      const q = /^\{\d+(?:,\d*)?\}/.exec(pattern.slice(i));
      if (!q) throw new RegexSyntaxError(`Illegal repetition near index ${i}`);
      out += q[0];
      i += q[0].length;
      if (pattern[i] === '+') throw new RegexSyntaxError('possessive quantifiers (*+, ++, ?+, {n}+) are not supported');
      continue;
    }
    if ((ch === '*' || ch === '+' || ch === '?') && pattern[i + 1] === '+') {
      throw new RegexSyntaxError('possessive quantifiers (*+, ++, ?+, {n}+) are not supported');
    }
    // Java reads a lone `]` or `}` as a literal; JS (with the u flag) rejects it.
    out += ch === ']' || ch === '}' ? `\\${ch}` : ch;
    i += 1;
  }
  if (inClass) throw new RegexSyntaxError('unclosed character class');
  return { source: out, flags: `${flags}u` };
}

function propertyClass(name: string, negated: boolean, inClass: boolean): string {
  const posix = POSIX_CLASSES[name];
  if (posix !== undefined) {
    if (inClass && negated) throw new RegexSyntaxError(`\\P{${name}} inside a character class is not supported`);
    return inClass ? posix : `[${negated ? '^' : ''}${posix}]`;
  }
  const isName = /^Is(.+)$/.exec(name);
  const js =
    isName?.[1] === 'Alphabetic'
      ? 'Alphabetic'
      : isName?.[1] === 'WhiteSpace' || isName?.[1] === 'White_Space'
        ? 'White_Space'
        : (isName?.[1] ?? name);
  // Let the JS engine decide whether it knows the Unicode property; an unknown one is a syntax error.
  try {
    new RegExp(`\\p{${js}}`, 'u');
  } catch {
    throw new RegexSyntaxError(`unknown character property name {${name}}`);
  }
  return `\\${negated ? 'P' : 'p'}{${js}}`;
}

function compile(pattern: string): JavaPattern {
  const { source, flags } = translate(pattern);
  let find: RegExp;
  let full: RegExp;
  try {
    find = new RegExp(source, flags);
    full = new RegExp(`^(?:${source})$`, flags);
  } catch (e) {
    throw new RegexSyntaxError((e as Error).message.replace(/^Invalid regular expression: /, ''));
  }
  const groupCount = new RegExp(`${source}|`, flags).exec('')!.length - 1;
  const groupNames = new Set(Object.keys(new RegExp(`${source}|`, flags).exec('')!.groups ?? {}));
  return { source: pattern, full, find, groupCount, groupNames };
}

/** Compiles a Java pattern or throws Connect's `Invalid regex: …` ConfigError naming the key. */
export function compileJavaRegex(pattern: string, key: string): JavaPattern {
  try {
    return compile(pattern);
  } catch (e) {
    throw ConfigError.invalid(key, pattern, `Invalid regex: ${(e as Error).message}`);
  }
}

/** Connect's RegexValidator, but checking the pattern as Java syntax (what users copy from Connect). */
export function javaRegexValidator(): Validator {
  return {
    ensureValid(name, value) {
      if (value === null || value === undefined) return;
      compileJavaRegex(value as string, name);
    },
    describe: () => 'valid regex',
  };
}

type ReplacementPart = string | { group: number } | { name: string };

/**
 * Parses a java.util.regex.Matcher replacement (`$1`, `${name}`, `\$`, `\\`) against a pattern, failing
 * at configure time where Java would fail on the first matching record.
 */
export function compileJavaReplacement(
  replacement: string,
  pattern: JavaPattern,
  key: string,
): (match: RegExpExecArray) => string {
  const parts: ReplacementPart[] = [];
  let text = '';
  const fail = (reason: string): never => {
    throw ConfigError.invalid(key, replacement, reason);
  };
  for (let i = 0; i < replacement.length;) {
    const ch = replacement[i]!;
    if (ch === '\\') {
      if (i + 1 >= replacement.length) fail('character to be escaped is missing');
      text += replacement[i + 1];
      i += 2;
    } else if (ch === '$') {
      i += 1;
      if (i >= replacement.length) fail('Illegal group reference: group index is missing');
      if (replacement[i] === '{') {
        const end = replacement.indexOf('}', i);
        if (end === -1) fail("named capturing group is missing trailing '}'");
        const name = replacement.slice(i + 1, end);
        if (!/^[a-zA-Z][a-zA-Z0-9]*$/.test(name)) fail(`named capturing group has an invalid name: ${name}`);
        if (!pattern.groupNames.has(name)) fail(`No group with name {${name}}`);
        parts.push(text, { name });
        text = '';
        i = end + 1;
      } else {
        const first = replacement.charCodeAt(i) - 48;
        if (first < 0 || first > 9) fail('Illegal group reference');
        let group = first;
        i += 1;
        // Java takes further digits only while the number stays a valid group.
        while (i < replacement.length) {
          const d = replacement.charCodeAt(i) - 48;
          if (d < 0 || d > 9 || group * 10 + d > pattern.groupCount) break;
          group = group * 10 + d;
          i += 1;
        }
        if (group > pattern.groupCount) {
          fail(`No group ${group} (the regex ${JSON.stringify(pattern.source)} has ${pattern.groupCount} group(s))`);
        }
        parts.push(text, { group });
        text = '';
      }
    } else {
      text += ch;
      i += 1;
    }
  }
  parts.push(text);
  return (match) => {
    let out = '';
    for (const p of parts) {
      if (typeof p === 'string') out += p;
      else if ('group' in p) out += match[p.group] ?? '';
      else out += match.groups?.[p.name] ?? '';
    }
    return out;
  };
}

/** Java's `matcher.matches()` then `matcher.replaceFirst(replacement)`; null when the input does not match. */
export function replaceFirstIfMatches(
  input: string,
  pattern: JavaPattern,
  expand: (match: RegExpExecArray) => string,
): string | null {
  if (!pattern.full.test(input)) return null;
  // replaceFirst re-runs a find from the start, which can pick a shorter match than matches() did.
  const m = pattern.find.exec(input)!;
  return input.slice(0, m.index) + expand(m) + input.slice(m.index + m[0].length);
}
