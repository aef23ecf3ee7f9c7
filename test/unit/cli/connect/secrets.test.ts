import { describe, expect, it } from 'vitest';
import { HIDDEN, maskConfig, secretTest } from '../../../../cli/connect/secrets.js';

describe('maskConfig', () => {
  it('hides PASSWORD-typed keys and keys named like secrets, keeps the rest', () => {
    const masked = maskConfig(
      {
        'connection.pwd': 'p1',
        'database.password': 'p2',
        'transforms.lookup.api.key': 'k',
        'producer.override.sasl.jaas.config': 'j',
        'auth.token': 't',
        topic: 'orders',
        'tasks.max': '1',
      },
      secretTest(new Set(['connection.pwd'])),
    );
    expect(masked).toEqual({
      'connection.pwd': HIDDEN,
      'database.password': HIDDEN,
      'transforms.lookup.api.key': HIDDEN,
      'producer.override.sasl.jaas.config': HIDDEN,
      'auth.token': HIDDEN,
      topic: 'orders',
      'tasks.max': '1',
    });
  });

  it('shows ${provider:...} references as written (they are where the secret comes from, not the secret)', () => {
    expect(maskConfig({ 'database.password': '${env:DB_PASSWORD}', 'x.secret': '' }, secretTest())).toEqual({
      'database.password': '${env:DB_PASSWORD}',
      'x.secret': '',
    });
  });
});
