import {
  ConfigDef,
  ConfigError,
  type ConnectRecord,
  DataError,
  type Logger,
  type RawConfig,
  type Schema,
  Schemas,
  Struct,
  type Transformation,
  type TransformationPlugin,
  Validators,
  describeValue,
  redactUrl,
} from '../../runtime/api/index.js';
import { type LoggerAware, stderrLogger } from '../debezium/plugin-logger.js';
import { structBuilderLike } from '../debezium/struct-utils.js';
import { PLUGIN_VERSION, type PlainObject } from '../support.js';
import { type CodeTables, codeText, loadTablesFromDatabase, tablesFromData } from './code-tables.js';
import { pairsToMap, readDataFile } from './config-helpers.js';
import { type RowChange, RowMapper } from './row-mapping.js';

/**
 * erpstream's TranslateCodes: replaces code fields by their meaning from translation tables (a file, or
 * a database query refreshed in the background). apply() never waits for a refresh: it reads whichever
 * table set was loaded last; a failed refresh keeps the previous tables and is logged.
 */

const CLASS_NAME = 'erpstream.transforms.TranslateCodes';

export const translateCodesConfig = new ConfigDef()
  .define({
    name: 'fields',
    type: 'LIST',
    importance: 'HIGH',
    validator: Validators.nonEmptyList(),
    documentation: 'Fields to translate and the table for each, field:table.',
    example: 'status:shipment_status,CARRIER_CD:carrier',
  })
  .define({
    name: 'tables.file',
    type: 'STRING',
    defaultValue: null,
    importance: 'HIGH',
    documentation: 'A YAML or JSON file: {table: {code: value}}. Exclusive with tables.connection.url.',
    example: '/etc/erpstream/codes.yaml',
  })
  .define({
    name: 'tables.connection.url',
    type: 'PASSWORD',
    defaultValue: null,
    importance: 'HIGH',
    documentation:
      'Database holding the tables, as postgres://… or mysql://… (mariadb:// also accepted). Never logged.',
  })
  .define({
    name: 'tables.connection.user',
    type: 'STRING',
    defaultValue: null,
    importance: 'MEDIUM',
    documentation: 'User for tables.connection.url when the URL carries none (a user in the URL is overridden).',
  })
  .define({
    name: 'tables.connection.password',
    type: 'PASSWORD',
    defaultValue: null,
    importance: 'MEDIUM',
    documentation: 'Password for tables.connection.user. Never logged.',
  })
  .define({
    name: 'tables.query',
    type: 'STRING',
    defaultValue: 'SELECT table_name, code, value FROM erp.code_translation',
    importance: 'MEDIUM',
    documentation: 'Query returning rows of (table name, code, value), by column position.',
  })
  .define({
    name: 'tables.refresh.interval.ms',
    type: 'LONG',
    defaultValue: 300_000,
    importance: 'MEDIUM',
    validator: Validators.atLeast(0),
    documentation: 'How often the tables are reloaded in the background; 0 loads them once.',
  })
  .define({
    name: 'on.miss',
    type: 'STRING',
    defaultValue: 'keep',
    importance: 'MEDIUM',
    validator: Validators.in('keep', 'null', 'fail'),
    documentation:
      'A code not in its table: keep (the code, as text), null, or fail (DataError naming field, code and ' +
      'table, so errors.tolerance/DLQ decide).',
  });

class TranslateCodes implements Transformation, LoggerAware, RowChange {
  private log: Logger = stderrLogger({ transform: CLASS_NAME });
  private fields = new Map<string, string>();
  private onMiss = 'keep';
  private tables: CodeTables = new Map();
  private load: () => Promise<CodeTables> = async () => new Map();
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;
  private readonly rows = new RowMapper(this, 'TranslateCodes');

  setLogger(logger: Logger): void {
    this.log = logger;
  }

  async configure(props: RawConfig): Promise<void> {
    const c = translateCodesConfig.parse(props);
    this.fields = pairsToMap('fields', c.list('fields'), 'field:table');
    this.onMiss = c.string('on.miss');
    const file = c.stringOrNull('tables.file') || null;
    const url = c.password('tables.connection.url')?.value() || null;
    if ((file === null) === (url === null)) {
      throw new ConfigError('TranslateCodes needs exactly one of tables.file and tables.connection.url', 'tables.file');
    }
    if (file !== null) {
      this.load = async () => tablesFromData('tables.file', file, readDataFile('tables.file', file));
    } else {
      const query = c.string('tables.query');
      const user = c.stringOrNull('tables.connection.user') || null;
      const password = c.password('tables.connection.password')?.value() || null;
      this.load = () => loadTablesFromDatabase(url!, query, { user, password });
    }
    this.tables = await this.load();
    for (const [fieldName, table] of this.fields) {
      if (!this.tables.has(table)) {
        const known = [...this.tables.keys()].join(', ') || 'none';
        throw ConfigError.invalid(
          'fields',
          `${fieldName}:${table}`,
          `table "${table}" was not loaded from ${file ?? redactUrl(url!)} (tables found: ${known})`,
        );
      }
    }
    const interval = c.int('tables.refresh.interval.ms');
    if (interval > 0) {
      this.timer = setInterval(() => void this.refresh(), interval);
      this.timer.unref();
    }
  }

  /** Reloads the tables; on failure keeps the current ones. Concurrent calls share one load. */
  refresh(): Promise<void> {
    this.refreshing ??= this.load()
      .then((tables) => {
        this.tables = tables;
      })
      .catch((e: unknown) => {
        this.log.warn('Code table refresh failed; keeping the tables loaded before', {
          error: (e as Error).message,
        });
      })
      .finally(() => {
        this.refreshing = null;
      });
    return this.refreshing;
  }

  apply(record: ConnectRecord): ConnectRecord {
    return this.rows.apply(record);
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.refreshing;
  }

  rowSchema(input: Schema): Schema {
    const b = structBuilderLike(input);
    for (const f of input.fields ?? []) {
      if (!this.fields.has(f.name)) b.field(f.name, f.schema);
      else b.field(f.name, f.schema.optional || this.onMiss !== 'keep' ? Schemas.OPTIONAL_STRING : Schemas.STRING);
    }
    return b.build();
  }

  struct(row: Struct, output: Schema): Struct {
    const out = new Struct(output);
    for (const f of row.schema.fields ?? []) {
      const v = row.getWithoutDefault(f.name);
      out.put(f.name, this.fields.has(f.name) ? this.translate(f.name, v) : v);
    }
    return out;
  }

  object(row: PlainObject): PlainObject {
    const out: PlainObject = { ...row };
    for (const fieldName of this.fields.keys()) {
      if (Object.hasOwn(row, fieldName)) out[fieldName] = this.translate(fieldName, row[fieldName]);
    }
    return out;
  }

  private translate(fieldName: string, code: unknown): string | null {
    if (code === null || code === undefined) return null;
    const table = this.fields.get(fieldName)!;
    const text = codeText(code);
    const codes = this.tables.get(table);
    if (codes?.has(text)) return codes.get(text)!;
    if (this.onMiss === 'null') return null;
    if (this.onMiss === 'fail') {
      throw new DataError(
        `TranslateCodes: field "${fieldName}" has code ${describeValue(code)}, which table "${table}" does not contain`,
        fieldName,
      );
    }
    return text;
  }
}

export const translateCodesPlugin: TransformationPlugin = {
  type: 'transformation',
  className: CLASS_NAME,
  aliases: ['TranslateCodes'],
  version: PLUGIN_VERSION,
  config: translateCodesConfig,
  summary: 'Replaces ERP codes by their meaning from translation tables (file or database, refreshed)',
  example: {
    'transforms.codes.type': CLASS_NAME,
    'transforms.codes.fields': 'status:shipment_status',
    'transforms.codes.tables.connection.url': '${file:/etc/erpstream/secrets.properties:codes.url}',
    'transforms.codes.tables.query': 'SELECT table_name, code, value FROM erp.code_translation',
    'transforms.codes.on.miss': 'fail',
  },
  create: () => new TranslateCodes(),
};
