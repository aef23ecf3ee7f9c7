import type { ConnectClient } from './client.js';
import type { ConnectorConfig } from './types.js';

/**
 * Keeping secrets off screens and out of CI logs. A value is secret when its key is PASSWORD-typed in the
 * plugin's config definition, or when its name says so (transforms' and converters' keys are not in the
 * connector's definition). A config-provider reference (`${env:DB_PASSWORD}`, `${file:/p:key}`) is not a
 * secret, so it is shown as written: that is what tells an operator where the secret comes from.
 */

export const HIDDEN = '[hidden]';

const SECRET_NAME = /password|passwd|secret|token|credential|api[._-]?key|private[._-]?key|jaas\.config|auth\.info/i;
const PROVIDER_REF = /\$\{[^}]*:[^}]*\}/;

export type SecretTest = (key: string) => boolean;

export function secretTest(passwordKeys: ReadonlySet<string> = new Set()): SecretTest {
  return (key) => passwordKeys.has(key) || SECRET_NAME.test(key);
}

export function isProviderReference(value: string): boolean {
  return PROVIDER_REF.test(value);
}

/** What may be shown for a value: itself, or `[hidden]`. */
export function displayValue(key: string, value: string, isSecret: SecretTest): string {
  return isSecret(key) && !isProviderReference(value) && value !== '' ? HIDDEN : value;
}

export function maskConfig(config: ConnectorConfig, isSecret: SecretTest): ConnectorConfig {
  return Object.fromEntries(Object.entries(config).map(([k, v]) => [k, displayValue(k, v, isSecret)]));
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
