import {
  ConfigDef,
  ConfigError,
  type ConnectRecord,
  DataError,
  type RawConfig,
  type Transformation,
  type TransformationPlugin,
  Validators,
  describeValue,
  isTombstone,
  newRecord,
} from '../../runtime/api/index.js';
import { PLUGIN_VERSION } from '../support.js';
import { pairsToMap, readMappingFile } from './config-helpers.js';
import { KeyMemory, findField } from './record-fields.js';

/**
 * erpstream's DomainRouter: sends each record to its customer's ("domain's") topic. The domain is a field
 * of the record, or looked up in a mapping keyed by that field (customer number → domain).
 */

const CLASS_NAME = 'erpstream.transforms.DomainRouter';
const TOPIC_CHARS = /^[A-Za-z0-9._-]+$/;

export const domainRouterConfig = new ConfigDef()
  .define({
    name: 'domain.field',
    type: 'STRING',
    importance: 'HIGH',
    validator: Validators.nonEmptyString(),
    documentation:
      'Field holding the domain, or the mapping key when a mapping is configured. Read from the value, or ' +
      'the changed row of a Debezium envelope; dotted paths allowed.',
    example: 'CUSTOMER_NO',
  })
  .define({
    name: 'domain.mapping',
    type: 'LIST',
    defaultValue: '',
    importance: 'MEDIUM',
    documentation: 'Inline mapping from domain.field values to domains, key:domain,…',
    example: '4711:acme,4712:globex',
  })
  .define({
    name: 'domain.mapping.file',
    type: 'STRING',
    defaultValue: null,
    importance: 'MEDIUM',
    documentation: 'A YAML or JSON mapping {key: domain}; inline domain.mapping entries win.',
  })
  .define({
    name: 'topic.format',
    type: 'STRING',
    defaultValue: '${domain}.${topic}',
    importance: 'MEDIUM',
    documentation: 'The new topic; ${domain} and ${topic} (the current topic) are replaced.',
  })
  .define({
    name: 'on.missing',
    type: 'STRING',
    defaultValue: 'fail',
    importance: 'MEDIUM',
    validator: Validators.in('drop', 'keep', 'fail'),
    documentation:
      'No domain (field null or absent, or key not mapped): drop the record, keep its topic, or fail ' +
      '(DataError naming the field and value, for the DLQ).',
  });

class DomainRouter implements Transformation {
  private domainField = '';
  private mapping: Map<string, string> | null = null;
  private format = '';
  private onMissing = 'fail';
  private readonly memory = new KeyMemory<string>();

  configure(props: RawConfig): void {
    const c = domainRouterConfig.parse(props);
    this.domainField = c.string('domain.field');
    this.format = c.string('topic.format');
    if (!this.format.includes('${domain}')) {
      throw ConfigError.invalid('topic.format', this.format, 'must contain ${domain}');
    }
    this.onMissing = c.string('on.missing');
    const file = c.stringOrNull('domain.mapping.file') || null;
    const inline = pairsToMap('domain.mapping', c.list('domain.mapping'), 'key:domain');
    if (file === null && inline.size === 0) {
      this.mapping = null;
      return;
    }
    this.mapping = new Map();
    if (file !== null) {
      for (const [k, v] of Object.entries(readMappingFile('domain.mapping.file', file))) {
        this.mapping.set(k.trim(), String(v).trim());
      }
    }
    for (const [k, v] of inline) this.mapping.set(k, v);
    for (const [k, v] of this.mapping) {
      if (!TOPIC_CHARS.test(v))
        throw ConfigError.invalid('domain.mapping', `${k}:${v}`, 'a domain may hold only A-Z a-z 0-9 . _ -');
    }
  }

  apply(record: ConnectRecord): ConnectRecord | null {
    const resolved = isTombstone(record) ? this.forTombstone(record) : this.resolve(record);
    if (typeof resolved !== 'string') return this.missing(record, resolved.reason);
    if (!isTombstone(record)) this.memory.remember(record.topic, record.key, resolved);
    return newRecord(record, {
      topic: this.format.replaceAll('${domain}', resolved).replaceAll('${topic}', record.topic),
    });
  }

  close(): void {}

  private forTombstone(record: ConnectRecord): string | { reason: string } {
    return (
      this.memory.recall(record.topic, record.key) ?? {
        reason: `tombstone with a key not seen before on ${record.topic}`,
      }
    );
  }

  private resolve(record: ConnectRecord): string | { reason: string } {
    const found = findField(record.valueSchema, record.value, this.domainField);
    const raw = found?.value;
    if (raw === undefined || raw === null) {
      return { reason: `field "${this.domainField}" is ${raw === null ? 'null' : 'absent'} on ${record.topic}` };
    }
    const text = String(raw).trim();
    if (this.mapping === null) {
      if (!TOPIC_CHARS.test(text)) {
        throw new DataError(
          `DomainRouter: field "${this.domainField}" holds ${describeValue(raw)}, not usable in a topic name (A-Z a-z 0-9 . _ -)`,
          this.domainField,
        );
      }
      return text;
    }
    return (
      this.mapping.get(text) ?? {
        reason: `field "${this.domainField}" value ${describeValue(raw)} has no domain mapping`,
      }
    );
  }

  private missing(record: ConnectRecord, reason: string): ConnectRecord | null {
    if (this.onMissing === 'drop') return null;
    if (this.onMissing === 'keep') return record;
    throw new DataError(`DomainRouter: no domain for the record: ${reason}`, this.domainField);
  }
}

export const domainRouterPlugin: TransformationPlugin = {
  type: 'transformation',
  className: CLASS_NAME,
  aliases: ['DomainRouter'],
  version: PLUGIN_VERSION,
  config: domainRouterConfig,
  summary: "Routes records to their customer domain's topic (domain from a field or a mapping)",
  example: {
    'transforms.domain.type': CLASS_NAME,
    'transforms.domain.domain.field': 'CUSTOMER_NO',
    'transforms.domain.domain.mapping': '4711:acme,4712:globex',
    'transforms.domain.topic.format': '${domain}.${topic}',
  },
  create: () => new DomainRouter(),
};
