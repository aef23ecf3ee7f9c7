import { readFileSync } from 'node:fs';
import { ConfigError, type ParsedConfig } from '../api/index.js';
import type { RestAuth, RestTls } from './server.js';

/**
 * The REST listener's security settings, read once for both worker modes: authentication (basic or bearer)
 * and TLS. TLS keys follow Kafka's PEM keystore convention, prefixed `listeners.https.` with the
 * unprefixed `ssl.*` key as fallback, as Connect reads its listener settings.
 */
export function restSecurity(parsed: ParsedConfig, protocol: 'http' | 'https'): { auth?: RestAuth; tls?: RestTls } {
  const auth = restAuth(parsed);
  if (protocol === 'http') return auth ? { auth } : {};
  return { ...(auth ? { auth } : {}), tls: restTls(parsed) };
}

function restAuth(parsed: ParsedConfig): RestAuth | undefined {
  const type = parsed.string('rest.auth.type');
  if (type === 'basic') {
    const username = parsed.stringOrNull('rest.auth.basic.username') ?? '';
    const password = parsed.password('rest.auth.basic.password')?.value() ?? '';
    if (username === '') throw ConfigError.missing('rest.auth.basic.username');
    if (password === '') throw ConfigError.missing('rest.auth.basic.password');
    return { type: 'basic', username, password };
  }
  if (type === 'bearer') {
    const token = parsed.password('rest.auth.bearer.token')?.value() ?? '';
    if (token === '') throw ConfigError.missing('rest.auth.bearer.token');
    return { type: 'bearer', token };
  }
  return undefined;
}

const PREFIX = 'listeners.https.';

function listenerSetting(parsed: ParsedConfig, key: string): { name: string; value: string } | null {
  for (const name of [`${PREFIX}${key}`, key]) {
    const v = parsed.originals[name];
    if (v !== undefined && v !== null && String(v).trim() !== '') return { name, value: String(v).trim() };
  }
  return null;
}

function readPem(name: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw ConfigError.invalid(name, file, `cannot read the PEM file: ${(e as Error).message}`);
  }
}

function restTls(parsed: ParsedConfig): RestTls {
  const type = listenerSetting(parsed, 'ssl.keystore.type');
  if (type && type.value.toUpperCase() !== 'PEM') {
    throw ConfigError.invalid(
      type.name,
      type.value,
      'only PEM keystores are supported (a file with the key and certificate chain)',
    );
  }
  const keystore = listenerSetting(parsed, 'ssl.keystore.location');
  if (!keystore) throw ConfigError.missing(`${PREFIX}ssl.keystore.location`);
  const pem = readPem(keystore.name, keystore.value);
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem) || !pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw ConfigError.invalid(
      keystore.name,
      keystore.value,
      'the PEM file must hold a private key and a certificate chain',
    );
  }
  const keyPassword = listenerSetting(parsed, 'ssl.key.password');
  const truststore = listenerSetting(parsed, 'ssl.truststore.location');
  const clientAuth = listenerSetting(parsed, 'ssl.client.authentication')?.value.toLowerCase() ?? 'none';
  if (!['none', 'requested', 'required'].includes(clientAuth)) {
    throw ConfigError.invalid(`${PREFIX}ssl.client.authentication`, clientAuth, 'expected none, requested or required');
  }
  if (clientAuth !== 'none' && !truststore) throw ConfigError.missing(`${PREFIX}ssl.truststore.location`);
  return {
    key: pem,
    cert: pem,
    ...(keyPassword ? { passphrase: keyPassword.value } : {}),
    ...(truststore ? { ca: readPem(truststore.name, truststore.value) } : {}),
    requestCert: clientAuth !== 'none',
    rejectUnauthorized: clientAuth === 'required',
  };
}
