import { requestBodySecrets } from '../api/index.js';
import type { PluginRegistry } from '../plugins/registry.js';

/** The secret values a request body carries, with the named plugin's PASSWORD keys: what no error may repeat. */
export function requestSecrets(registry: PluginRegistry, body: unknown): string[] {
  return requestBodySecrets(body, (cls) => registry.connectorPasswordKeys(cls));
}
