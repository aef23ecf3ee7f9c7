import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigDef } from '../../../../runtime/api/index.js';
import { builtinPlugins } from '../../../../bundle/builtin.js';
import { PluginRegistry } from '../../../../runtime/plugins/registry.js';
import { flakySource } from '../worker/test-plugins.js';
import { type Harness, startHarness } from '../worker/harness.js';
import { waitFor } from '../worker/fake-kafka.js';
import { rawHttp, rawRequest } from '../../../support/raw-http.js';

/** A source whose PASSWORD key has a name no heuristic would catch: only its spec says it is secret. */
const oddSource = {
  ...flakySource,
  className: 'test.OddSourceConnector',
  aliases: ['OddSource'],
  config: new ConfigDef()
    .define({ name: 'topic', type: 'STRING', defaultValue: 'odd', importance: 'HIGH', documentation: 'topic' })
    .define({ name: 'login.phrase', type: 'PASSWORD', defaultValue: null, importance: 'HIGH', documentation: 's' }),
};

/** One value per way a key is secret (issue 19, item 3). */
const SECRETS: Record<string, string> = {
  'login.phrase': 'spec-password-1f3a', // PASSWORD in the plugin's spec
  'database.password': 'undeclared-password-77c1', // undeclared, named like a secret
  'producer.override.sasl.jaas.config': 'jaas-config-secret-9d02', // PASSWORD in Kafka's client configs
  'consumer.override.ssl.keystore.certificate.chain': 'cert-chain-secret-4b6e', // ditto, name says nothing
  'admin.override.ssl.key.password': 'admin-key-password-0a9f',
  'aws.secret.access.key': 'aws-secret-5e21',
  'auth.token': 'token-secret-c3d8',
  'gcp.credentials.json': 'credentials-secret-82ab',
  'tls.key.file': 'key-file-secret-61f0',
};
const PLACEHOLDER = { 'other.password': '${env:OTHER_PASSWORD}' };
const config = (extra: Record<string, string> = {}) => ({
  'connector.class': 'OddSource',
  'tasks.max': '1',
  ...SECRETS,
  ...PLACEHOLDER,
  ...extra,
});

let h: Harness;
const seen: string[] = [];
beforeAll(async () => {
  // A placeholder the worker cannot resolve is refused at create, so the one kept visible must resolve.
  process.env.OTHER_PASSWORD = 'resolved-other-password';
  h = await startHarness({}, { registry: new PluginRegistry([...builtinPlugins(), oddSource]) });
});
afterAll(async () => {
  delete process.env.OTHER_PASSWORD;
  await h.worker.stop();
});

async function call(method: string, p: string, body?: unknown) {
  const r = await h.req(method, p, body);
  seen.push(`${method} ${p} -> ${r.status} ${JSON.stringify(r.body)}`);
  return r;
}

function expectHidden(cfg: Record<string, string>): void {
  for (const k of Object.keys(SECRETS)) expect(cfg[k], k).toBe('[hidden]');
  expect(cfg['other.password']).toBe(PLACEHOLDER['other.password']);
}

describe('no secret value leaves the worker (REST responses, error messages, logs)', () => {
  it('POST, GET, config, tasks, tasks-config, PUT, PATCH and ?expand=info all show [hidden]', async () => {
    const created = await call('POST', '/connectors', { name: 'sec', config: config() });
    expect(created.status).toBe(201);
    expectHidden(created.body.config);
    await waitFor(async () => (await h.req('GET', '/connectors/sec/tasks')).body.length === 1);
    expectHidden((await call('GET', '/connectors/sec')).body.config);
    expectHidden((await call('GET', '/connectors/sec/config')).body);
    expectHidden((await call('GET', '/connectors/sec/tasks')).body[0].config);
    expectHidden((await call('GET', '/connectors/sec/tasks-config')).body['sec-0']);
    expectHidden((await call('GET', '/connectors?expand=info')).body.sec.info.config);
    await call('GET', '/connectors?expand=status&expand=info');
    await call('GET', '/connectors/sec/status');
    const put = await call('PUT', '/connectors/sec/config', { ...config(), name: 'sec', topic: 'changed' });
    expect(put.status).toBe(200);
    expectHidden(put.body.config);
    const patched = await call('PATCH', '/connectors/sec/config', { topic: 'again' });
    expect(patched.status).toBe(200);
    expectHidden(patched.body.config);
    // A GET → PUT round trip of the shown config keeps the stored secrets (it does not store "[hidden]").
    const shown = (await call('GET', '/connectors/sec/config')).body;
    expect((await call('PUT', '/connectors/sec/config', shown)).status).toBe(200);
  });

  it('error messages that echo the config hide its secrets (no connector type, invalid values, mismatches)', async () => {
    const { 'connector.class': _omit, ...noClass } = config();
    void _omit;
    const r = await call('POST', '/connectors', { name: 'sec-x', config: noClass });
    expect(r.status).toBe(400);
    expect(r.body.message).toMatch(/contains no connector type/);
    expect(r.body.message).toContain('database.password=[hidden]');
    expect(r.body.message).toContain('other.password=${env:OTHER_PASSWORD}');
    await call('POST', '/connectors', { name: 'sec-y', config: config({ 'tasks.max': '0' }) });
    await call('POST', '/connectors', { name: 'sec-z', config: config({ name: 'other' }) });
    await call('PUT', '/connector-plugins/OddSource/config/validate', config({ 'tasks.max': 'x' }));
    const v = await call('PUT', '/connector-plugins/OddSource/config/validate', config());
    const values = Object.fromEntries(
      (v.body.configs as Array<{ value: { name: string; value: string } }>).map((c) => [c.value.name, c.value.value]),
    );
    expect(values['login.phrase']).toBe('[hidden]');
    await call('PUT', '/connector-plugins/OddSource/config/validate', noClass);
    await call('PUT', '/connectors/sec-w/config', config({ 'connector.class': 'NoSuchConnector' }));
    await call('PATCH', '/connectors/sec/config', { 'database.password': 'patched-secret-e4e4', 'tasks.max': 'x' });
  });

  it('a body that is not JSON is refused without quoting it back (an unquoted password, a bare secret)', async () => {
    const bodies = [
      '{"connector.class":"OddSource","login.phrase":unquoted-secret-5d17}',
      'unquoted-secret-5d17',
      '{"database.password":"x"}unquoted-secret-5d17',
      'x{"login.phrase":"unquoted-secret-5d17"}',
    ];
    for (const body of bodies) {
      for (const [method, target] of [
        ['PUT', '/connectors/sec-json/config'],
        ['POST', '/connectors'],
        ['PUT', '/connector-plugins/OddSource/config/validate'],
      ] as const) {
        const r = await rawRequest(h.url, rawHttp(method, target, { 'content-type': 'application/json' }, body));
        seen.push(`${method} ${target} -> ${r.status} ${r.body}`);
        expect(r.status).toBe(400);
        expect(r.json).toEqual({ error_code: 400, message: expect.stringMatching(/^Invalid JSON in request body/) });
        expect(r.body).not.toContain('unquoted-secret-5d17');
      }
    }
  });

  it('none of the values above appears in any answer or log line', () => {
    const everything = [...seen, ...h.logs].join('\n');
    for (const [k, v] of Object.entries({
      ...SECRETS,
      patched: 'patched-secret-e4e4',
      malformed: 'unquoted-secret-5d17',
    })) {
      expect(
        everything.includes(v),
        `${k} leaked: ${everything
          .split('\n')
          .filter((l) => l.includes(v))
          .join('\n')}`,
      ).toBe(false);
    }
  });
});
