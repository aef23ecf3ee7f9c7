import { describe, expect, it } from 'vitest';
import { ConfigError, silentLogger } from '../../../../runtime/api/index.js';
import { parseSettings } from '../../../../connectors/erp-source/config.js';
import type { Cursor } from '../../../../connectors/erp-source/cursor.js';
import type { Dialect } from '../../../../connectors/erp-source/dialects/dialect.js';
import { purgedPast, tablesLostToRetention } from '../../../../connectors/erp-source/retention.js';

const props = {
  'connection.url': 'postgresql://127.0.0.1:5432/erp',
  'change.table': 'erp.change_log',
  'topic.prefix': 'erp',
};
const dialect = (low: bigint | null, max = '900') =>
  ({
    lowestSequence: async () => low,
    currentCursor: async (): Promise<Cursor> => ({ kind: 'xid', base: '9:9:', seq: max }),
  }) as unknown as Dialect;

describe('retention checks at start', () => {
  it('a position is lost only when the rows right after it were purged', () => {
    expect(
      purgedPast(
        [
          ['a', '9'],
          ['b', '10'],
          ['c', '11'],
        ],
        11n,
      ),
    ).toEqual(['a']);
  });

  it('re-snapshots lost tables with snapshot.mode=when_needed, and refuses to start otherwise', async () => {
    const doneAt = new Map<string, Cursor>([
      ['erp.a', { kind: 'gaps', seq: '5', gaps: [] }],
      ['erp.b', { kind: 'gaps', seq: '99', gaps: [] }],
      ['erp.c', { kind: 'gaps', seq: '1', gaps: [] }],
    ]);
    const settings = parseSettings({ ...props, 'snapshot.mode': 'when_needed' });
    const deps = { dialect: dialect(100n), settings, schemas: new Map(), log: silentLogger };
    expect(await tablesLostToRetention(deps, doneAt, new Set(['erp.c']))).toEqual(['erp.a']);
    expect([...doneAt.keys()]).toEqual(['erp.b', 'erp.c']);
    const strict = { ...deps, settings: parseSettings(props) };
    const err = await tablesLostToRetention(
      strict,
      new Map([['erp.a', { kind: 'gaps', seq: '5', gaps: [] }]]),
      new Set(),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain('snapshot.mode=when_needed');
  });

  it('gives watermark positions without a high mark the current one (never reported as lost)', async () => {
    const doneAt = new Map<string, Cursor>([['erp.a', { kind: 'xid', base: '5:5:' }]]);
    const deps = { dialect: dialect(800n), settings: parseSettings(props), schemas: new Map(), log: silentLogger };
    expect(await tablesLostToRetention(deps, doneAt, new Set())).toEqual([]);
    expect(doneAt.get('erp.a')).toEqual({ kind: 'xid', base: '5:5:', seq: '900' });
  });
});
