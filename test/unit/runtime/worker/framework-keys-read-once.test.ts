import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The framework keys are parsed once (runtime/worker/connector-settings.ts) by the spec that validates them. A raw
 * read elsewhere (`config['errors.log.enable'] === 'true'`) brings back a second parse rule and a second default,
 * which is how `errors.log.enable=TRUE` once validated and then did nothing. This scan keeps them out of runtime/.
 */
const ROOT = path.resolve(import.meta.dirname, '../../../..');
const ALLOWED = new Set(['runtime/worker/connector-config.ts', 'runtime/worker/connector-settings.ts']);

const KEYS = String.raw`(?:errors\.[a-z.]+|topics|topics\.regex|topic\.creation\.[a-z.]+|transaction\.boundary(?:\.interval\.ms)?|exactly\.once\.support|tasks\.max(?:\.enforce)?|(?:key|value|header)\.converter|consumer\.override\.group\.id|outage\.wait\.timeout\.ms)`;
const RAW_READS: RegExp[] = [
  // config['errors.log.enable'], props?.['topics.regex']
  new RegExp(String.raw`[\w)\]]\??\.?\[\s*['"\x60]${KEYS}['"\x60]\s*\]`),
  // config.topics, rawConfig?.topics
  /\b(?:config|props|rawConfig|connectorConfig|resolved|originals)\??\.topics\b/,
  // a getter on a parsed or raw map: parsed.bool('errors.log.enable'), map.get('topics')
  new RegExp(
    String.raw`\.(?:get|string|stringOrNull|bool|int|intOrNull|list)\(\s*['"\x60](?:errors\.|topics|topic\.creation\.|transaction\.boundary|exactly\.once\.support)`,
  ),
];

function rawReads(source: string): string[] {
  return source
    .split('\n')
    .map((line, i) => ({ line: line.trim(), n: i + 1 }))
    .filter(({ line }) => !line.startsWith('//') && !line.startsWith('*') && RAW_READS.some((r) => r.test(line)))
    .map(({ line, n }) => `${n}: ${line}`);
}

function tsFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) return tsFiles(rel);
    return e.name.endsWith('.ts') ? [rel] : [];
  });
}

describe('framework keys are read only through the typed connector settings', () => {
  it('the scan recognizes the raw reads it exists to forbid', () => {
    const before = [
      "logEnable: props['errors.log.enable'] === 'true',",
      "const raw = (config['transaction.boundary'] ?? 'poll').trim().toLowerCase();",
      "const partitions = Number(config['topic.creation.default.partitions'] ?? 1);",
      "const regex = (connectorConfig['topics.regex'] ?? '').trim();",
      "const list = (c.config.topics ?? '')",
      "const own = connectorConfig?.['key.converter'];",
      "const on = parsed.bool('errors.log.enable');",
    ];
    for (const line of before) expect(rawReads(line), line).toHaveLength(1);
    // Key names in lists, messages and constants are not reads.
    const fine = [
      "['key.converter', 'converter'],",
      "export const TOPICS_REGEX_CONFIG = 'topics.regex';",
      'throw new Error(`no dead-letter queue (errors.deadletterqueue.topic.name)`);',
      'const dlq = settings.deadLetterQueue?.topic;',
    ];
    for (const line of fine) expect(rawReads(line), line).toEqual([]);
  });

  it('no file in runtime/ reads one from a raw config map', () => {
    const offenders = tsFiles('runtime')
      .filter((f) => !ALLOWED.has(f))
      .flatMap((f) => rawReads(readFileSync(path.join(ROOT, f), 'utf8')).map((hit) => `${f}:${hit}`));
    expect(offenders).toEqual([]);
  });
});
