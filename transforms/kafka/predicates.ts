import {
  ConfigDef,
  type ConnectRecord,
  type Predicate,
  type PredicatePlugin,
  type RawConfig,
  Validators,
  isTombstone,
} from '../../runtime/api/index.js';
import { PLUGIN_VERSION } from '../support.js';
import { type JavaPattern, compileJavaRegex, javaRegexValidator } from './java-regex.js';

/** Connect's predicates (KIP-585). The chain applies `negate`; these only answer the question. */

const PREDICATES_PACKAGE = 'org.apache.kafka.connect.transforms.predicates';
const PATTERN = 'pattern';
const NAME = 'name';

export const TOPIC_NAME_MATCHES_CONFIG = new ConfigDef().define({
  name: PATTERN,
  type: 'STRING',
  validator: Validators.all(Validators.nonEmptyString(), javaRegexValidator()),
  importance: 'MEDIUM',
  documentation: "A Java regular expression for matching against the name of a record's topic.",
});

/** True when the pattern matches the whole topic name (Java's `matches()`). */
export class TopicNameMatches implements Predicate {
  private pattern: JavaPattern | undefined;

  configure(props: RawConfig): void {
    this.pattern = compileJavaRegex(TOPIC_NAME_MATCHES_CONFIG.parse(props).string(PATTERN), PATTERN);
  }

  test(record: ConnectRecord): boolean {
    return record.topic !== null && record.topic !== undefined && this.pattern!.full.test(record.topic);
  }

  close(): void {}
}

export const HAS_HEADER_KEY_CONFIG = new ConfigDef().define({
  name: NAME,
  type: 'STRING',
  validator: Validators.nonEmptyString(),
  importance: 'MEDIUM',
  documentation: 'The header name.',
});

/** True when the record has at least one header with the name. */
export class HasHeaderKey implements Predicate {
  private name = '';

  configure(props: RawConfig): void {
    this.name = HAS_HEADER_KEY_CONFIG.parse(props).string(NAME);
  }

  test(record: ConnectRecord): boolean {
    return record.headers.some((h) => h.key === this.name);
  }

  close(): void {}
}

export const RECORD_IS_TOMBSTONE_CONFIG = new ConfigDef();

/** True for a tombstone: a record whose value is null. */
export class RecordIsTombstone implements Predicate {
  configure(props: RawConfig): void {
    RECORD_IS_TOMBSTONE_CONFIG.parse(props);
  }

  test(record: ConnectRecord): boolean {
    return isTombstone(record);
  }

  close(): void {}
}

function predicate(
  simpleName: string,
  config: ConfigDef,
  summary: string,
  example: Record<string, string>,
  create: () => Predicate,
): PredicatePlugin {
  return {
    type: 'predicate',
    className: `${PREDICATES_PACKAGE}.${simpleName}`,
    aliases: [simpleName],
    version: PLUGIN_VERSION,
    config,
    summary,
    example,
    create,
  };
}

export const topicNameMatchesPlugin = predicate(
  'TopicNameMatches',
  TOPIC_NAME_MATCHES_CONFIG,
  'True for records whose topic name matches a regular expression (whole name).',
  {
    transforms: 'route',
    'transforms.route.type': 'org.apache.kafka.connect.transforms.RegexRouter',
    'transforms.route.regex': '(.*)',
    'transforms.route.replacement': '$1-legacy',
    'transforms.route.predicate': 'isLegacy',
    predicates: 'isLegacy',
    'predicates.isLegacy.type': `${PREDICATES_PACKAGE}.TopicNameMatches`,
    'predicates.isLegacy.pattern': 'erp\\.legacy\\..*',
  },
  () => new TopicNameMatches(),
);

export const hasHeaderKeyPlugin = predicate(
  'HasHeaderKey',
  HAS_HEADER_KEY_CONFIG,
  'True for records that carry at least one header with the given name.',
  {
    transforms: 'dropReplays',
    'transforms.dropReplays.type': 'org.apache.kafka.connect.transforms.Filter',
    'transforms.dropReplays.predicate': 'isReplay',
    predicates: 'isReplay',
    'predicates.isReplay.type': `${PREDICATES_PACKAGE}.HasHeaderKey`,
    'predicates.isReplay.name': 'replay',
  },
  () => new HasHeaderKey(),
);

export const recordIsTombstonePlugin = predicate(
  'RecordIsTombstone',
  RECORD_IS_TOMBSTONE_CONFIG,
  'True for tombstones (records with a null value).',
  {
    transforms: 'keyFromValue',
    'transforms.keyFromValue.type': 'org.apache.kafka.connect.transforms.ValueToKey',
    'transforms.keyFromValue.fields': 'id',
    'transforms.keyFromValue.predicate': 'isTombstone',
    'transforms.keyFromValue.negate': 'true',
    predicates: 'isTombstone',
    'predicates.isTombstone.type': `${PREDICATES_PACKAGE}.RecordIsTombstone`,
  },
  () => new RecordIsTombstone(),
);
