import { describe, expect, it } from 'vitest';
import { compileTopicTemplate, templateMatches } from '../../../../connectors/lookup-sink/template.js';
import { seededRandom } from '../../../support/seeded-random.js';

// ERPSTREAM_SEEDS: seeds (default 20, 400 cases each); ERPSTREAM_SEED_BASE picks the first seed to replay one.
const SEEDS = Number(process.env.ERPSTREAM_SEEDS ?? 20);
const SEED_BASE = Number(process.env.ERPSTREAM_SEED_BASE ?? 1);

/** The regex templateMatches used to build: the definition of what it matches (and exponential on hostile input). */
function regexMatches(pieces: readonly string[], value: string): boolean {
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${pieces.map(escape).join('.+')}$`, 's').test(value);
}

describe('templateMatches', () => {
  it('accepts what a template renders and refuses the rest', () => {
    const t = compileTopicTemplate('destination.topic', 'erp.${customer}.orders.${region}');
    expect(templateMatches(t, 'erp.acme.orders.eu')).toBe(true);
    expect(templateMatches(t, 'erp.a.b.orders.c.orders.d')).toBe(true);
    expect(templateMatches(t, 'erp..orders.eu')).toBe(false);
    expect(templateMatches(t, 'erp.acme.orders.')).toBe(false);
    expect(templateMatches(t, 'erp.acme.order.eu')).toBe(false);
    expect(templateMatches(compileTopicTemplate('k', 'fixed'), 'fixed')).toBe(true);
    expect(templateMatches(compileTopicTemplate('k', 'fixed'), 'fixed2')).toBe(false);
    // Adjacent placeholders need a character each; a placeholder stands for newlines too.
    expect(templateMatches(compileTopicTemplate('k', 'a${x}${y}'), 'ab')).toBe(false);
    expect(templateMatches(compileTopicTemplate('k', 'a${x}${y}'), 'a\n\n')).toBe(true);
    // The prefix and the suffix may not share characters.
    expect(templateMatches(compileTopicTemplate('k', 'ab${x}ba'), 'aba')).toBe(false);
    expect(templateMatches(compileTopicTemplate('k', 'ab${x}ba'), 'abxba')).toBe(true);
  });

  it('matches exactly what the regex it replaced matched, on random small templates and values', () => {
    const alphabet = ['a', 'b', '.', '\n', '$'];
    for (let seed = SEED_BASE; seed < SEED_BASE + SEEDS; seed++) {
      const rng = seededRandom(seed);
      const pick = () => alphabet[Math.floor(rng() * alphabet.length)]!;
      const text = (max: number) => Array.from({ length: Math.floor(rng() * (max + 1)) }, pick).join('');
      for (let n = 0; n < 400; n++) {
        const pieces = Array.from({ length: 1 + Math.floor(rng() * 5) }, () => text(3));
        const t = compileTopicTemplate('k', pieces.map((p, i) => (i === 0 ? p : `\${p${i}}${p}`)).join(''));
        expect(t.pieces).toEqual(pieces);
        // Half of the values are renderings of the template (so that matches are common), half are noise.
        const value =
          rng() < 0.5 ? text(12) : pieces.map((p, i) => (i === 0 ? p : `${text(3) || pick()}${p}`)).join('');
        const expected = regexMatches(pieces, value);
        if (templateMatches(t, value) !== expected) {
          throw new Error(
            `seed ${seed}, case ${n}: ${JSON.stringify(t.text)} against ${JSON.stringify(value)} should be ${expected}`,
          );
        }
      }
    }
  });

  it('answers at once for 100 placeholders against a 200 KB value (the regex backtracked for ever)', () => {
    // No timing assertion: the test's timeout is the bound. The regex took 20 s for 4 placeholders and 512 characters.
    const t = compileTopicTemplate('k', `${Array.from({ length: 100 }, (_, i) => `\${f${i}}`).join('-')}!`);
    const hostile = '-'.repeat(200_000);
    expect(templateMatches(t, hostile)).toBe(false);
    expect(templateMatches(t, `${hostile}!`)).toBe(true);
    expect(templateMatches(t, `${'-'.repeat(198)}!`)).toBe(false);
    expect(templateMatches(t, `${'x-'.repeat(99)}x!`)).toBe(true);
  });
});
