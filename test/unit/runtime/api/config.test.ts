import { describe, expect, it } from 'vitest';
import { ConfigDef, Password, Validators } from '../../../../runtime/api/index.js';

const def = new ConfigDef()
  .define({ name: 'topic.prefix', type: 'STRING', importance: 'HIGH', documentation: 'Prefix.', group: 'Common' })
  .define({
    name: 'poll.interval.ms',
    type: 'INT',
    defaultValue: 500,
    importance: 'MEDIUM',
    documentation: 'Poll interval.',
    group: 'Common',
    validator: Validators.atLeast(1),
  })
  .define({
    name: 'connection.password',
    type: 'PASSWORD',
    defaultValue: null,
    importance: 'HIGH',
    documentation: 'Secret.',
  })
  .define({ name: 'tables', type: 'LIST', defaultValue: '', importance: 'LOW', documentation: 'Tables.' });

describe('ConfigDef', () => {
  it('parses typed values and applies defaults', () => {
    const c = def.parse({ 'topic.prefix': 'erp', tables: 'a, b' });
    expect(c.string('topic.prefix')).toBe('erp');
    expect(c.int('poll.interval.ms')).toBe(500);
    expect(c.list('tables')).toEqual(['a', 'b']);
  });

  it('names the key and the value in errors', () => {
    expect(() => def.parse({})).toThrow('Missing required configuration "topic.prefix" which has no default value.');
    expect(() => def.parse({ 'topic.prefix': 'x', 'poll.interval.ms': 'soon' })).toThrow(
      'Invalid value soon for configuration poll.interval.ms: Not a number of type INT',
    );
    expect(() => def.parse({ 'topic.prefix': 'x', 'poll.interval.ms': '0' })).toThrow(
      'Invalid value 0 for configuration poll.interval.ms: Value must be at least 1',
    );
  });

  it('never shows a password value', () => {
    const c = def.parse({ 'topic.prefix': 'x', 'connection.password': 's3cret' });
    const p = c.password('connection.password')!;
    expect(p.value()).toBe('s3cret');
    expect(`${p}`).toBe('[hidden]');
    expect(JSON.stringify({ p })).not.toContain('s3cret');
    const infos = def.toConfigInfos('X', { 'topic.prefix': 'x', 'connection.password': 's3cret' });
    expect(JSON.stringify(infos)).not.toContain('s3cret');
    expect(p).toBeInstanceOf(Password);
  });

  it('renders ConfigInfos in the Connect shape with every error counted', () => {
    const infos = def.toConfigInfos('X', { 'poll.interval.ms': '0' });
    expect(infos.error_count).toBe(2);
    expect(infos.groups).toEqual(['Common']);
    const poll = infos.configs.find((c) => c.definition?.name === 'poll.interval.ms')!;
    expect(poll.definition).toMatchObject({
      type: 'INT',
      required: false,
      default_value: '500',
      order_in_group: 2, // Connect 4.x's name (3.9: order)
      group: 'Common',
    });
    expect(poll.value).toEqual({
      name: 'poll.interval.ms',
      value: '0',
      recommended_values: [],
      errors: ['Invalid value 0 for configuration poll.interval.ms: Value must be at least 1'],
      visible: true,
    });
  });
});
