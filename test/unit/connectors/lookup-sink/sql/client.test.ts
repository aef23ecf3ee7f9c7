import { describe, expect, it } from 'vitest';
import { isoLocalTimestamp } from '../../../../../connectors/lookup-sink/sql/client.js';

describe('isoLocalTimestamp', () => {
  it('turns the servers’ timestamp text into ISO-8601, microseconds kept', () => {
    expect(isoLocalTimestamp('2026-11-22 10:00:00')).toBe('2026-11-22T10:00:00');
    expect(isoLocalTimestamp('2026-11-22 10:00:00.5')).toBe('2026-11-22T10:00:00.5');
    expect(isoLocalTimestamp('2026-11-22 10:00:00.123456')).toBe('2026-11-22T10:00:00.123456');
  });

  it('leaves what is not a plain timestamp as it is', () => {
    for (const text of [
      'infinity',
      '-infinity',
      '2000-01-01 00:00:00 BC',
      '2026-11-22',
      '10:00:00',
      '2026-11-22T10:00:00',
    ]) {
      expect(isoLocalTimestamp(text)).toBe(text);
    }
  });
});
