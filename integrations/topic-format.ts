import { TOPIC_FORMAT, isFormatKey } from './debezium.js';
import { ERP_SOURCE_CLASS, LABEL_SOURCE } from './fields.js';

/** What pinning reads and writes of a generated connector (expand.ts's GeneratedConnector, without importing it back). */
export interface FormatPinned {
  readonly role: string;
  readonly path: string;
  readonly config: Record<string, string>;
  readonly origins: Record<string, string>;
}

/**
 * A source and the sinks that read its topics must agree on the topics' format, and not every worker default
 * works: StringConverter flattens struct keys to `Struct{PHONE_ID=3}` text, and JSON without schemas turns
 * decimals into base64 strings. So the generated connectors carry their format themselves: an ErpSource whose
 * file sets no converter gets JSON with schemas (as a Debezium source already does), and each sink that sets no
 * converter reads its source's topics with the source's converters. Anything a file sets wins.
 */
export function pinTopicFormats(connectors: readonly FormatPinned[]): void {
  const formatOf = new Map<string, Record<string, string>>();
  for (const c of connectors) {
    if (c.role !== 'source') continue;
    if (c.config['connector.class'] === ERP_SOURCE_CLASS && !Object.keys(c.config).some(isFormatKey)) {
      for (const [k, v] of Object.entries(TOPIC_FORMAT)) set(c, k, v, c.path);
    }
    const source = c.config[LABEL_SOURCE];
    if (source !== undefined) {
      formatOf.set(source, Object.fromEntries(Object.entries(c.config).filter(([k]) => isFormatKey(k))));
    }
  }
  for (const c of connectors) {
    if (c.role !== 'sink' || Object.keys(c.config).some(isFormatKey)) continue;
    const format = formatOf.get(c.config[LABEL_SOURCE] ?? '');
    for (const [k, v] of Object.entries(format ?? {})) set(c, k, v, c.path);
  }
}

function set(c: FormatPinned, key: string, value: string, origin: string): void {
  c.config[key] = value;
  c.origins[key] = origin;
}
