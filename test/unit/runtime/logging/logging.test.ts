import { describe, expect, it } from 'vitest';
import { Password } from '../../../../runtime/api/index.js';
import { JsonLogger, LogLevelRegistry, redact } from '../../../../runtime/logging/index.js';

describe('JSON logs', () => {
  it('one JSON object per line with logger, level and context; levels follow the logger hierarchy', () => {
    const lines: string[] = [];
    const levels = new LogLevelRegistry('INFO');
    const log = new JsonLogger({
      name: 'erpstream.worker',
      registry: levels,
      sink: (l) => lines.push(l),
      now: () => new Date(0),
    });
    const task = log.child({ connector: 'c', task: 1 });
    task.debug('hidden at INFO');
    task.info('started', { file: '/x' });
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      {
        ts: '1970-01-01T00:00:00.000Z',
        level: 'INFO',
        logger: 'erpstream.worker',
        msg: 'started',
        connector: 'c',
        task: 1,
        file: '/x',
      },
    ]);
    expect(levels.set('erpstream', 'DEBUG')).toEqual(['erpstream']);
    task.debug('now visible');
    expect(lines).toHaveLength(2);
    levels.set('erpstream.worker', 'ERROR');
    task.warn('hidden again');
    expect(lines).toHaveLength(2);
    expect(levels.explicit()).toMatchObject({
      erpstream: { level: 'DEBUG' },
      'erpstream.worker': { level: 'ERROR' },
      root: { level: 'INFO' },
    });
  });

  it('never prints secrets', () => {
    expect(
      redact({
        password: 'hunter2',
        'db.password': '${env:PW}',
        nested: { apiKey: 'k', p: new Password('x') },
        n: 5n,
        ok: 'v',
      }),
    ).toEqual({
      password: '[hidden]',
      'db.password': '${env:PW}',
      nested: { apiKey: '[hidden]', p: '[hidden]' },
      n: '5',
      ok: 'v',
    });
  });
});
