import { describe, expect, it } from 'vitest';
import { dlqView } from '../../../../runtime/rest/console-dlq.js';

const b = (s: string) => Buffer.from(s);

describe("the console's view of a dead-lettered record", () => {
  it('shows headers named after Object.prototype members like any other and hides the error headers', () => {
    const view = dlqView(
      {
        topic: 'dlq',
        partition: 0,
        offset: 7n,
        timestamp: 1_796_562_646_000,
        key: b('k'),
        value: b('{"a":1}'),
        headers: [
          ['__proto__', b('p')],
          ['constructor', b('c')],
          ['trace', null],
          ['__connect.errors.exception.message', b('boom')],
        ],
      },
      (s) => s,
    );
    expect(JSON.parse(JSON.stringify(view.headers))).toEqual(
      JSON.parse('{"__proto__":"p","constructor":"c","trace":null}'),
    );
    expect(Object.keys(view.headers)).toEqual(['__proto__', 'constructor', 'trace']);
  });
});
