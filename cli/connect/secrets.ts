import { HIDDEN, type SecretTest, redactConfig, secretTest, shownValue } from '../../runtime/api/secrets.js';
import type { ConnectClient } from './client.js';
import type { ConnectorConfig } from './types.js';

/**
 * Keeping secrets off screens and out of CI logs, by the worker's own rule (runtime/api/secrets.ts): the
 * plugin's PASSWORD keys, Kafka's client PASSWORD configs, and names that say "secret". A config-provider
 * reference (`${env:DB_PASSWORD}`) is shown as written: it tells an operator where the secret comes from.
 */
export { HIDDEN, type SecretTest, secretTest };

const PROVIDER_REF = /\$\{[^}]*:[^}]*\}/;

/** Whether a value refers to a config provider somewhere (for checks, not for display: see displayValue). */
export function isProviderReference(value: string): boolean {
  return PROVIDER_REF.test(value);
}

/** What may be shown for a value: itself, or `[hidden]`. */
export function displayValue(key: string, value: string, isSecret: SecretTest): string {
  return shownValue(key, value, isSecret);
}

export function maskConfig(config: ConnectorConfig, isSecret: SecretTest): ConnectorConfig {
  return redactConfig(config, isSecret);
}

/**
 * The PASSWORD-typed keys of a connector class, from `GET /connector-plugins/{class}/config`. Best effort:
 * an unknown plugin (or an old worker) leaves only the name heuristic, which errs on the side of hiding.
 */
export async function passwordKeysOf(client: ConnectClient, connectorClass: string | undefined): Promise<Set<string>> {
  if (!connectorClass) return new Set();
  try {
    const keys = await client.getPluginConfig(connectorClass);
    return new Set(keys.filter((k) => k.type === 'PASSWORD').map((k) => k.name));
  } catch {
    return new Set();
  }
}
