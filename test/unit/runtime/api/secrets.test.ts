import { describe, expect, it } from 'vitest';
import {
  HIDDEN,
  isSecretKey,
  redactConfig,
  scrubSecrets,
  secretTest,
  secretValues,
} from '../../../../runtime/api/secrets.js';
import { JsonLogger, LogLevelRegistry } from '../../../../runtime/logging/index.js';

describe('the one secret rule', () => {
  it.each([
    'database.password',
    'connection.pwd',
    'lookup.connection.password',
    'producer.override.sasl.jaas.config',
    'consumer.override.ssl.keystore.certificate.chain',
    'admin.override.ssl.truststore.certificates',
    'schema.history.internal.producer.ssl.keystore.key',
    'ssl.key.password',
    'aws.secret.access.key',
    'client.secret',
    'auth.token',
    'google.credentials.json',
    'transforms.lookup.api.key',
    'tls.private.key',
    'tls.key.file',
    'value.converter.basic.auth.user.info',
  ])('%s is secret', (key) => expect(isSecretKey(key)).toBe(true));

  it.each(['topic', 'tasks.max', 'key.converter', 'ssl.keystore.location', 'message.key.columns'])('%s is not', (key) =>
    expect(isSecretKey(key)).toBe(false),
  );

  it("the plugin's PASSWORD keys are secret whatever their name", () => {
    expect(secretTest(new Set(['login.phrase']))('login.phrase')).toBe(true);
    expect(isSecretKey('login.phrase')).toBe(false);
  });

  it('placeholders stay visible; anything mixed with a literal is hidden', () => {
    expect(
      redactConfig({
        'a.password': '${env:A}',
        'b.password': '${file:/run/s.properties:b} ${vault:x:y}',
        'c.password': 'literal-${env:C}',
        'd.password': '',
        'e.password': null,
        topic: 'orders',
      }),
    ).toEqual({
      'a.password': '${env:A}',
      'b.password': '${file:/run/s.properties:b} ${vault:x:y}',
      'c.password': HIDDEN,
      'd.password': '',
      'e.password': null,
      topic: 'orders',
    });
  });

  it('scrubs every occurrence of every secret value from a message, longest first', () => {
    const secrets = secretValues({ 'a.password': 'abc', 'b.token': 'abcdef', topic: 'abc-topic' });
    expect(secrets).toEqual(['abcdef', 'abc']);
    expect(scrubSecrets('login abcdef failed, then abc', secrets)).toBe('login [hidden] failed, then [hidden]');
  });

  it('log fields follow the same rule', () => {
    const lines: string[] = [];
    const log = new JsonLogger({ name: 't', registry: new LogLevelRegistry('INFO'), sink: (l) => lines.push(l) });
    log.info('config', {
      config: { 'producer.override.sasl.jaas.config': 'jaas-secret', 'ssl.keystore.certificate.chain': 'chain' },
      ref: { 'db.password': '${env:DB}' },
    });
    expect(lines[0]).not.toContain('jaas-secret');
    expect(lines[0]).not.toContain('"chain"');
    expect(lines[0]).toContain('${env:DB}');
  });
});
