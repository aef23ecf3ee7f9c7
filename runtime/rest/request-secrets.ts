import { secretTest, secretValues } from '../api/index.js';
import type { PluginRegistry } from '../plugins/registry.js';

/**
 * The secret values a request body carries (a connector config, or `{name, config}`), by the one rule with the
 * named plugin's PASSWORD keys: what no error message may repeat.
 */
export function requestSecrets(registry: PluginRegistry, body: unknown): string[] {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return [];
  const top = body as Record<string, unknown>;
  const nested = top.config;
  const config =
    nested !== null && typeof nested === 'object' && !Array.isArray(nested)
      ? { ...(nested as Record<string, unknown>), ...top }
      : top;
  return secretValues(config, secretTest(registry.connectorPasswordKeys(config['connector.class'])));
}
