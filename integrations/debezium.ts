import { hasPlaceholder as isProviderReference } from '../runtime/config-providers/index.js';
import type { Section } from './reader.js';

/**
 * A source of `kind: debezium`: the customer already runs (or may run) Debezium on a Kafka Connect cluster
 * of their own. The integration file declares the database and tables once; we generate Debezium's
 * connector config, which `plan`/`apply` register on *that* cluster (`source.cluster`), while the sinks run
 * on ours and read Debezium's topics `<topicPrefix>.<schema>.<table>`.
 */

export const DEBEZIUM_CONNECTORS = {
  postgresql: 'io.debezium.connector.postgresql.PostgresConnector',
  mysql: 'io.debezium.connector.mysql.MySqlConnector',
  sqlserver: 'io.debezium.connector.sqlserver.SqlServerConnector',
} as const;
export type DebeziumConnector = keyof typeof DEBEZIUM_CONNECTORS;
export const DEBEZIUM_SOURCE_KEYS = ['kind', 'connector', 'cluster', 'schemaHistory'] as const;
export const SOURCE_KINDS = ['erpstream', 'debezium'] as const;
/** First in every sink chain reading Debezium's envelopes: the sinks expect rows, not change events. */
export const UNWRAP_ALIAS = 'unwrap';
export const UNWRAP_CLASS = 'io.debezium.transforms.ExtractNewRecordState';
/**
 * The format of Debezium's topics, pinned on the Debezium connector and mirrored on the sinks: the two run on
 * different workers whose default converters need not agree. Overridable under the source's `config:`.
 */
export const TOPIC_FORMAT: Readonly<Record<string, string>> = {
  'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
  'key.converter.schemas.enable': 'true',
  'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
  'value.converter.schemas.enable': 'true',
};
/** The keys of a connector config that say how its topics are (de)serialized. */
export function isFormatKey(key: string): boolean {
  return /^(key|value|header)\.converter(\.|$)/.test(key);
}

const DEFAULT_PORTS: Record<DebeziumConnector, number> = { postgresql: 5432, mysql: 3306, sqlserver: 1433 };

/** Replication slot and publication names allow lower-case letters, digits and "_" only. */
export function slotName(sourceName: string): string {
  return `erpstream_${sourceName.replace(/[^a-z0-9_]/g, '_')}`;
}

/** MySQL needs a server id unique among the replicas; derived from the name so re-applying changes nothing. */
export function serverId(sourceName: string): string {
  let h = 5381;
  for (const ch of sourceName) h = (h * 33 + ch.charCodeAt(0)) >>> 0;
  return String(10_000 + (h % 1_000_000_000));
}

interface ParsedUrl {
  host: string;
  port: string;
  database: string;
  user: string | undefined;
  hasPassword: boolean;
}

function parseConnectionUrl(url: string, connector: DebeziumConnector): ParsedUrl | undefined {
  // jdbc:sqlserver://host:1433;databaseName=x is accepted as well as sqlserver://host:1433/x.
  const jdbc = /^(?:jdbc:)?sqlserver:\/\/([^:;/]+)(?::(\d+))?(?:[;/](.*))?$/i.exec(url);
  if (connector === 'sqlserver' && jdbc && /;|databaseName/i.test(url)) {
    const db = /databaseName=([^;]+)/i.exec(jdbc[3] ?? '')?.[1] ?? '';
    return { host: jdbc[1]!, port: jdbc[2] ?? '1433', database: db, user: undefined, hasPassword: false };
  }
  let u: URL;
  try {
    u = new URL(url.replace(/^jdbc:/, ''));
  } catch {
    return undefined;
  }
  if (!u.hostname) return undefined;
  return {
    host: u.hostname,
    port: u.port || String(DEFAULT_PORTS[connector]),
    database: decodeURIComponent(u.pathname.replace(/^\//, '')),
    user: u.username ? decodeURIComponent(u.username) : undefined,
    hasPassword: u.password !== '',
  };
}

export interface DebeziumSource {
  connector: DebeziumConnector;
  cluster: string | undefined;
  topicPrefix: string | undefined;
  /** The database as the lookup sink's default connection: url (without password), user, password. */
  connection: Array<[string, string, string]>;
}

/**
 * Writes the Debezium connector's keys through `set` (key, value, field path). Problems go to the section,
 * at the field. The connection URL must be literal (host, port and database become separate keys); the
 * password stays whatever was written, normally an `${env:…}` placeholder that the Connect cluster's config
 * provider resolves.
 */
export function writeDebeziumSource(
  s: Section,
  name: string,
  set: (key: string, value: string, path: string) => void,
): DebeziumSource {
  const connector = s.str('connector', { required: true, oneOf: Object.keys(DEBEZIUM_CONNECTORS) }) as
    DebeziumConnector | undefined;
  const cluster = s.str('cluster', { required: true });
  const topicPrefix = s.str('topicPrefix', {
    required: true,
    pattern: [/^[A-Za-z0-9_.-]+$/, 'letters, digits, ".", "_" and "-"'],
  });
  const tables = s.list('tables', { required: true });
  if (s.has('capture')) s.problem('capture', 'Debezium captures from the database log; remove capture');
  if (s.has('connectorClass')) s.problem('connectorClass', 'implied by connector; remove connectorClass');
  const connection = s.section('connection', ['url', 'user', 'password'], { required: true });
  const out: Array<[string, string, string]> = [];
  if (tables && tables.length > 0) {
    // Include lists are regular expressions matched against `<schema>.<table>`; names are matched literally.
    set('table.include.list', tables.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join(','), s.at('tables'));
    for (const t of tables) {
      if (!t.includes('.')) s.problem('tables', `"${t}" needs its schema (or database): <schema>.<table>`);
    }
  }

  if (connector === undefined) return { connector: 'postgresql', cluster, topicPrefix, connection: out };

  set('connector.class', DEBEZIUM_CONNECTORS[connector], s.at('connector'));
  set('tasks.max', '1', s.at('connector'));
  if (topicPrefix) set('topic.prefix', topicPrefix, s.at('topicPrefix'));
  if (connection) {
    const url = connection.str('url', { required: true });
    const user = connection.str('user');
    const password = connection.str('password');
    let parsed: ParsedUrl | undefined;
    if (url !== undefined && isProviderReference(url)) {
      connection.problem(
        'url',
        'Debezium takes host, port and database as separate keys: write the URL literally (without the password)',
      );
    } else if (url !== undefined) {
      parsed = parseConnectionUrl(url, connector);
      if (!parsed) connection.problem('url', `"${url}" is not a ${connector} connection URL (host, port, database)`);
      else if (parsed.hasPassword)
        connection.problem('url', 'holds a password: put it in connection.password as ${env:VAR}');
      else if (!parsed.database && connector !== 'mysql') connection.problem('url', 'names no database');
    }
    const userValue = user ?? parsed?.user;
    if (parsed) {
      set('database.hostname', parsed.host, connection.at('url'));
      set('database.port', parsed.port, connection.at('url'));
      if (connector === 'postgresql') set('database.dbname', parsed.database, connection.at('url'));
      if (connector === 'sqlserver') set('database.names', parsed.database, connection.at('url'));
      out.push(['url', url!, connection.at('url')]);
    }
    if (userValue !== undefined) set('database.user', userValue, connection.at(user ? 'user' : 'url'));
    else connection.problem('user', 'required (or in the URL)');
    // Normally `${env:VAR}`, which needs `config.providers=env` on that Connect cluster; a literal is
    // allowed (plan shows it as [hidden]) for clusters without config providers.
    if (password !== undefined) set('database.password', password, connection.at('password'));
    if (userValue !== undefined) out.push(['user', userValue, connection.at(user ? 'user' : 'url')]);
    if (password !== undefined) out.push(['password', password, connection.at('password')]);
  }

  switch (connector) {
    case 'postgresql':
      set('plugin.name', 'pgoutput', s.at('connector'));
      set('slot.name', slotName(name), s.at('connector'));
      set('publication.name', slotName(name), s.at('connector'));
      // Only the listed tables: `all_tables` needs superuser, `disabled` needs a hand-made publication.
      set('publication.autocreate.mode', 'filtered', s.at('connector'));
      break;
    case 'mysql':
    case 'sqlserver': {
      if (connector === 'mysql') set('database.server.id', serverId(name), s.at('connector'));
      if (connector === 'sqlserver') set('database.encrypt', 'false', s.at('connector'));
      // Both keep the DDL history in a Kafka topic of the Connect cluster's Kafka.
      const h = s.section('schemaHistory', ['bootstrapServers', 'topic'], { required: true });
      const servers = h?.str('bootstrapServers', { required: true });
      if (servers) set('schema.history.internal.kafka.bootstrap.servers', servers, h!.at('bootstrapServers'));
      if (h) {
        const topic = h.str('topic') ?? `${topicPrefix ?? name}.schema-history`;
        set('schema.history.internal.kafka.topic', topic, h.has('topic') ? h.at('topic') : h.path);
      }
      break;
    }
  }
  if (connector === 'postgresql' && s.has('schemaHistory'))
    s.problem('schemaHistory', 'only MySQL and SQL Server keep a schema history');
  return { connector, cluster, topicPrefix, connection: out };
}

/** The JSON Schema of the Debezium-only source fields (for `integrations schema`). */
export const DEBEZIUM_SOURCE_SCHEMA = {
  kind: {
    type: 'string',
    enum: [...SOURCE_KINDS],
    default: 'erpstream',
    description: "debezium: a Debezium connector on the customer's Kafka Connect cluster (source.cluster).",
  },
  connector: { type: 'string', enum: Object.keys(DEBEZIUM_CONNECTORS), description: 'kind: debezium: the database.' },
  cluster: {
    type: 'string',
    description: 'kind: debezium: the Kafka Connect cluster running Debezium, a context name or http(s) URL.',
  },
  schemaHistory: {
    type: 'object',
    additionalProperties: false,
    description: "kind: debezium, MySQL and SQL Server: the Kafka topic keeping Debezium's DDL history.",
    properties: { bootstrapServers: { type: 'string' }, topic: { type: 'string' } },
  },
} as const;
