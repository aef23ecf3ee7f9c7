import {
  ConfigDef,
  type ConnectRecord,
  type RawConfig,
  type Transformation,
  type TransformationPlugin,
  newRecord,
} from '../../runtime/api/index.js';
import { PLUGIN_VERSION } from '../support.js';
import { compileJavaReplacement, compileJavaRegex, javaRegexValidator, replaceFirstIfMatches } from './java-regex.js';

const REGEX = 'regex';
const REPLACEMENT = 'replacement';

export const REGEX_ROUTER_CONFIG = new ConfigDef()
  .define({
    name: REGEX,
    type: 'STRING',
    validator: javaRegexValidator(),
    importance: 'HIGH',
    documentation: 'Regular expression to use for matching (Java syntax; it must match the whole topic name).',
  })
  .define({
    name: REPLACEMENT,
    type: 'STRING',
    importance: 'HIGH',
    documentation: 'Replacement string. `$1` or `${name}` insert a captured group; `\\$` is a literal dollar sign.',
  });

/**
 * Connect's RegexRouter: when `regex` matches the whole topic, the topic becomes `replaceFirst(replacement)`;
 * otherwise the record passes unchanged. A replacement that names a missing group fails at configure
 * time (Connect fails on the first matching record).
 */
export class RegexRouter implements Transformation {
  private route: ((topic: string) => string | null) | undefined;

  configure(props: RawConfig): void {
    const config = REGEX_ROUTER_CONFIG.parse(props);
    const pattern = compileJavaRegex(config.string(REGEX), REGEX);
    const expand = compileJavaReplacement(config.string(REPLACEMENT), pattern, REPLACEMENT);
    this.route = (topic) => replaceFirstIfMatches(topic, pattern, expand);
  }

  apply<R extends ConnectRecord>(record: R): R {
    const topic = this.route!(record.topic);
    return topic === null ? record : newRecord(record, { topic });
  }

  close(): void {}
}

export const regexRouterPlugin: TransformationPlugin = {
  type: 'transformation',
  className: 'org.apache.kafka.connect.transforms.RegexRouter',
  aliases: ['RegexRouter'],
  version: PLUGIN_VERSION,
  config: REGEX_ROUTER_CONFIG,
  summary: 'Renames the topic with a regular expression and replacement when the regex matches the whole topic name.',
  example: {
    transforms: 'route',
    'transforms.route.type': 'org.apache.kafka.connect.transforms.RegexRouter',
    'transforms.route.regex': 'erp\\.dbo\\.(.*)',
    'transforms.route.replacement': 'erp.$1.v1',
  },
  create: () => new RegexRouter(),
};
