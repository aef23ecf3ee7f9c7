import {
  ConfigDef,
  ConfigError,
  type ConnectRecord,
  Headers,
  type RawConfig,
  type SchemaAndValue,
  type Transformation,
  type TransformationPlugin,
  type Validator,
  newRecord,
} from '../../runtime/api/index.js';
import { PLUGIN_VERSION } from '../support.js';
import { parseString } from './values.js';

const HEADER = 'header';
const VALUE_LITERAL = 'value.literal';

/** Connect's ConfigDef.NonNullValidator. */
function nonNull(): Validator {
  return {
    ensureValid(name, value) {
      if (value === null || value === undefined)
        throw new ConfigError(`Invalid value null for configuration ${name}: Entry must be non null`, name);
    },
    describe: () => 'non-null string',
  };
}

export const INSERT_HEADER_CONFIG = new ConfigDef()
  .define({
    name: HEADER,
    type: 'STRING',
    validator: nonNull(),
    importance: 'HIGH',
    documentation: 'The name of the header.',
  })
  .define({
    name: VALUE_LITERAL,
    type: 'STRING',
    validator: nonNull(),
    importance: 'HIGH',
    documentation:
      'The literal value that is to be set as the header value on all records. Its type is inferred as ' +
      "Connect's Values.parseString does: integers get the smallest of int8/int16/int32/int64, other numbers " +
      'float32/float64/Decimal, true/false boolean, null a null header, ISO dates Date/Time/Timestamp, the rest string.',
  });

/** Connect's InsertHeader: appends one header with a typed literal to every record, tombstones included. */
export class InsertHeader implements Transformation {
  private header = '';
  private literal: SchemaAndValue = { schema: null, value: null };

  configure(props: RawConfig): void {
    const config = INSERT_HEADER_CONFIG.parse(props);
    this.header = config.string(HEADER);
    this.literal = parseString(config.string(VALUE_LITERAL));
  }

  apply<R extends ConnectRecord>(record: R): R {
    // Appended even when a header with this name exists, as Connect does.
    return newRecord(record, {
      headers: Headers.add(record.headers, this.header, this.literal.value, this.literal.schema),
    });
  }

  close(): void {}
}

export const insertHeaderPlugin: TransformationPlugin = {
  type: 'transformation',
  className: 'org.apache.kafka.connect.transforms.InsertHeader',
  aliases: ['InsertHeader'],
  version: PLUGIN_VERSION,
  config: INSERT_HEADER_CONFIG,
  summary: 'Adds a header with a literal value (typed like Values.parseString) to each record.',
  example: {
    transforms: 'source',
    'transforms.source.type': 'org.apache.kafka.connect.transforms.InsertHeader',
    'transforms.source.header': 'origin',
    'transforms.source.value.literal': 'erp-eu-1',
  },
  create: () => new InsertHeader(),
};
