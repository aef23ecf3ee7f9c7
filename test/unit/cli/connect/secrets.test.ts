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

describe('error messages from Connect', () => {
  it('never repeat a secret of the request (Connect echoes configs in its 400 messages)', async () => {
    const { ConnectClient } = await import('../../../../cli/connect/client.js');
    const fetchImpl = (async (_url: string, init: RequestInit) => {
      const sent = JSON.parse(String(init.body)) as { config: Record<string, string> };
      const echoed = Object.entries(sent.config)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ');
      return new Response(
        JSON.stringify({ error_code: 400, message: `Connector config {${echoed}} contains no connector type` }),
        { status: 400, headers: { 'content-type': 'application/json' } },
      );
    }) as typeof fetch;
    const client = new ConnectClient({ url: 'http://127.0.0.1:1', fetch: fetchImpl });
    const error = await client
      .createConnector('x', {
        'database.password': 'pw-1f3a',
        'producer.override.sasl.jaas.config': 'jaas-9d02',
        'other.password': '${env:P}',
      })
      .catch((e: unknown) => e as Error);
    expect((error as Error).message).toContain('database.password=[hidden]');
    expect((error as Error).message).toContain('other.password=${env:P}');
    expect((error as Error).message).not.toMatch(/pw-1f3a|jaas-9d02/);
  });
});
