/**
 * The one rule for what is a secret, used by every REST response, error message, log line and the CLI.
 *
 * A config value is secret when its key is
 * - PASSWORD-typed in the plugin's spec (the caller passes those keys: they differ per plugin),
 * - one of Kafka's client PASSWORD configs, alone or behind a prefix (`producer.override.sasl.jaas.config`,
 *   `consumer.override.ssl.key.password`, `schema.history.internal.producer.ssl.keystore.key`, …), or
 * - named like a secret (password, secret, token, jaas, credentials, API/private/access keys, key files,
 *   user info), because transforms', converters' and undeclared keys are in no spec the worker can read.
 * A value made only of `${provider:[path:]key}` placeholders is not the secret but where it comes from, so it
 * stays visible; anything else under a secret key is shown as `[hidden]`.
 */
export const HIDDEN = '[hidden]';

/** Kafka 3.9's PASSWORD-typed client configs (SslConfigs, SaslConfigs); the same for producer, consumer, admin. */
export const KAFKA_CLIENT_PASSWORD_KEYS: readonly string[] = [
  'ssl.key.password',
  'ssl.keystore.password',
  'ssl.keystore.key',
  'ssl.keystore.certificate.chain',
  'ssl.truststore.password',
  'ssl.truststore.certificates',
  'sasl.jaas.config',
];

const SECRET_NAME =
  /passw(or)?d|passwd|pwd$|secret|token|credential|jaas|(api|access|private|secret|signing|encryption)[._-]?key|key[._-]?(file|pem)|keystore\.key|(auth|user)\.info/i;

/** Connect's ConfigTransformer pattern, anchored: the whole value is placeholders (and blanks between them). */
const ONLY_PLACEHOLDERS = /^\s*(\$\{[^}]*?:([^}]*?:)?[^}]*?\}\s*)+$/;

export type SecretTest = (key: string) => boolean;

/** Whether a key holds a secret; `passwordKeys` are the PASSWORD-typed keys of the plugin's spec, if known. */
export function isSecretKey(key: string, passwordKeys?: ReadonlySet<string>): boolean {
  if (passwordKeys?.has(key)) return true;
  if (SECRET_NAME.test(key)) return true;
  return KAFKA_CLIENT_PASSWORD_KEYS.some((k) => key === k || key.endsWith(`.${k}`));
}

/** A secret test bound to one plugin's PASSWORD keys. */
export function secretTest(passwordKeys?: ReadonlySet<string>): SecretTest {
  return (key) => isSecretKey(key, passwordKeys);
}

/** A `${provider:…}` reference (or several), which names where a secret comes from and may be shown. */
export function isPlaceholderOnly(value: string): boolean {
  return ONLY_PLACEHOLDERS.test(value);
}

/** What may be shown of a value: itself, or `[hidden]`. Empty and placeholder values have nothing to hide. */
export function shownValue<V extends string | null | undefined>(key: string, value: V, isSecret: SecretTest): V {
  if (value === null || value === undefined || value === '' || !isSecret(key) || isPlaceholderOnly(value)) {
    return value;
  }
  return HIDDEN as V;
}

/** A config as it may be shown. */
export function redactConfig<V extends string | null>(
  config: Readonly<Record<string, V>>,
  isSecret: SecretTest = isSecretKey,
): Record<string, V> {
  const out: Record<string, V> = {};
  for (const [k, v] of Object.entries(config)) out[k] = shownValue(k, v, isSecret);
  return out;
}

/** The secret values of a config (what must never appear in a message), longest first. */
export function secretValues(config: Readonly<Record<string, unknown>>, isSecret: SecretTest = isSecretKey): string[] {
  const out = new Set<string>();
  for (const [k, v] of Object.entries(config)) {
    if (typeof v === 'string' && shownValue(k, v, isSecret) === HIDDEN) out.add(v);
  }
  return [...out].sort((a, b) => b.length - a.length);
}

/**
 * The secret values of a resolved connector config for scrubbing errors: the values of secret keys (and of
 * authorization headers) plus passwords written into URLs (`scheme://user:pass@host`). Values shorter than 3
 * characters are left out: scrubbing them would mangle every message.
 */
export function connectionSecretValues(config: Readonly<Record<string, string>>): string[] {
  const out = new Set(secretValues(config, (key) => isSecretKey(key) || /authorization/i.test(key)));
  for (const v of Object.values(config)) {
    const m = /^[a-z][a-z0-9+.-]*:\/\/[^/@]*:([^/@]+)@/i.exec(v);
    if (m) out.add(m[1]!).add(decodeURIComponent(m[1]!));
  }
  return [...out].filter((s) => s.length >= 3);
}

/**
 * The secret values of a REST request body: a connector config, or `{name, config}` (both levels count).
 * `passwordKeysOf` gives the PASSWORD keys for the body's `connector.class`, when the caller knows specs.
 */
export function requestBodySecrets(
  body: unknown,
  passwordKeysOf: (connectorClass: unknown) => ReadonlySet<string> = () => new Set(),
): string[] {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return [];
  const top = body as Record<string, unknown>;
  const nested = top.config;
  const config =
    nested !== null && typeof nested === 'object' && !Array.isArray(nested)
      ? { ...(nested as Record<string, unknown>), ...top }
      : top;
  return secretValues(config, secretTest(passwordKeysOf(config['connector.class'])));
}

/** A message with every occurrence of these secret values replaced by `[hidden]`. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length > 0) out = out.split(s).join(HIDDEN);
  return out;
}
