import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { colorEnabled, colorStyle, parseOutputFormat, plainStyle, renderResult } from '../../../cli/output.js';

const rows = [
  { class: 'org.apache.kafka.connect.transforms.Filter', aliases: ['Filter'], big: 9007199254740993n },
  { class: 'X', aliases: [], big: 1n },
];

describe('output', () => {
  it('renders an aligned table with upper-case headers', () => {
    expect(renderResult(rows, ['class', 'aliases'], 'table', plainStyle)).toBe(
      'CLASS                                       ALIASES\n' +
        'org.apache.kafka.connect.transforms.Filter  Filter\n' +
        'X\n',
    );
  });

  it('renders the same rows as exact JSON and as YAML', () => {
    expect(renderResult(rows, ['class'], 'json', plainStyle)).toContain('"big": 9007199254740993');
    expect(parseYaml(renderResult(rows.slice(1), ['class'], 'yaml', plainStyle))).toEqual([
      { class: 'X', aliases: [], big: 1 },
    ]);
  });

  it('colours only a TTY, never with NO_COLOR or --no-color, and always with FORCE_COLOR', () => {
    expect(colorEnabled({ isTTY: true }, {})).toBe(true);
    expect(colorEnabled({ isTTY: false }, {})).toBe(false);
    expect(colorEnabled({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled({ isTTY: true }, {}, true)).toBe(false);
    expect(colorEnabled({ isTTY: false }, { FORCE_COLOR: '1' })).toBe(true);
    expect(colorStyle.bold('x')).toBe('\u001b[1mx\u001b[22m');
  });

  it('rejects an unknown format naming the valid ones', () => {
    expect(() => parseOutputFormat('xml')).toThrow('Invalid output format "xml".');
  });
});
