import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  ConfigDef,
  ConfigError,
  type ParsedConfig,
  type RawConfig,
  Validators,
  YamlLoadError,
  loadYaml,
} from '../api/index.js';
import { parseProperties } from '../config-providers/properties.js';

/** The worker's own settings (Connect's WorkerConfig + StandaloneConfig + DistributedConfig subset). */
export const workerConfigDef = new ConfigDef()
  .define({
    name: 'listeners',
    type: 'LIST',
    defaultValue: 'http://127.0.0.1:8083',
    importance: 'LOW',
    documentation: 'REST API listeners, e.g. http://127.0.0.1:8083. Bound to 127.0.0.1 unless a host is given.',
  })
  .define({
    name: 'rest.advertised.host.name',
    type: 'STRING',
    defaultValue: null,
    importance: 'LOW',
    documentation: 'Host name in worker_id and in URLs given to other workers. Defaults to the listener host.',
  })
  .define({
    name: 'rest.advertised.port',
    type: 'INT',
    defaultValue: null,
    importance: 'LOW',
    documentation: 'Port in worker_id. Defaults to the bound listener port.',
  })
  .define({
    name: 'bootstrap.servers',
    type: 'LIST',
    defaultValue: 'localhost:9092',
    importance: 'HIGH',
    documentation: 'Kafka brokers (host:port, comma-separated).',
  })
  .define({
    name: 'key.converter',
    type: 'CLASS',
    defaultValue: 'org.apache.kafka.connect.json.JsonConverter',
    importance: 'HIGH',
    documentation: 'Default key converter; sub-settings with the `key.converter.` prefix.',
  })
  .define({
    name: 'value.converter',
    type: 'CLASS',
    defaultValue: 'org.apache.kafka.connect.json.JsonConverter',
    importance: 'HIGH',
    documentation: 'Default value converter; sub-settings with the `value.converter.` prefix.',
  })
  .define({
    name: 'header.converter',
    type: 'CLASS',
    defaultValue: 'org.apache.kafka.connect.storage.SimpleHeaderConverter',
    importance: 'LOW',
    documentation: 'Default header converter.',
  })
  .define({
    name: 'offset.storage.file.filename',
    type: 'STRING',
    defaultValue: '/tmp/connect.offsets',
    importance: 'HIGH',
    documentation:
      'Standalone: file holding source offsets. Connector configs are kept next to it in `<file>.connectors.json`.',
  })
  .define({
    name: 'offset.flush.interval.ms',
    type: 'LONG',
    defaultValue: 60000,
    validator: Validators.atLeast(0),
    importance: 'LOW',
    documentation: 'How often source offsets acknowledged by Kafka are written to the offset store.',
  })
  .define({
    name: 'offset.flush.timeout.ms',
    type: 'LONG',
    defaultValue: 5000,
    validator: Validators.atLeast(0),
    importance: 'LOW',
    documentation: 'How long an offset flush waits for outstanding records to be acknowledged.',
  })
  .define({
    name: 'group.id',
    type: 'STRING',
    defaultValue: null,
    importance: 'HIGH',
    documentation: 'Distributed mode: the worker group; setting it selects distributed mode.',
  })
  .define({
    name: 'config.storage.topic',
    type: 'STRING',
    defaultValue: null,
    importance: 'HIGH',
    documentation: 'Distributed mode: compacted, single-partition topic for connector configs.',
  })
  .define({
    name: 'offset.storage.topic',
    type: 'STRING',
    defaultValue: null,
    importance: 'HIGH',
    documentation: 'Distributed mode: compacted topic for source offsets.',
  })
  .define({
    name: 'status.storage.topic',
    type: 'STRING',
    defaultValue: null,
    importance: 'HIGH',
    documentation: 'Distributed mode: compacted topic for connector and task statuses.',
  })
  .define({
    name: 'operations.storage.topic',
    type: 'STRING',
    defaultValue: 'erpstream-operations',
    importance: 'LOW',
    documentation:
      'Both modes: compacted topic holding the operations audit log (reconcile, repair, replay, DLQ redrive), created ' +
      'at first use. Workers of one cluster must share it.',
  })
  .define({
    name: 'operations.storage.replication.factor',
    type: 'INT',
    defaultValue: 3,
    validator: Validators.atLeast(1),
    importance: 'LOW',
    documentation:
      'Replication factor of operations.storage.topic when the worker creates it (capped at the broker count).',
  })
  .define({
    name: 'exactly.once.source.support',
    type: 'STRING',
    defaultValue: 'disabled',
    validator: Validators.custom('[disabled, preparing, enabled]', (name, v) => {
      if (!['disabled', 'preparing', 'enabled'].includes(String(v).toLowerCase())) {
        throw ConfigError.invalid(name, v, 'String must be one of (case insensitive): DISABLED, PREPARING, ENABLED');
      }
    }),
    importance: 'HIGH',
    documentation:
      'Exactly-once source support (KIP-618); `enabled` makes source tasks transactional (distributed mode).',
  })
  .define({
    name: 'plugin.path',
    type: 'LIST',
    defaultValue: '',
    importance: 'LOW',
    documentation:
      "Directories with third-party plugin packages, comma-separated (Connect's plugin.path). Each is a package or holds one per subdirectory; a package's package.json names its ESM entry under `erpstream.plugins`, whose default export `register(registrar)` adds its connectors, transforms, predicates and converters beside the built-in ones.",
  })
  .define({
    name: 'config.providers',
    type: 'LIST',
    defaultValue: null,
    importance: 'LOW',
    documentation: 'Config provider names; without it, env, file and directory are available.',
  })
  .define({
    name: 'task.shutdown.graceful.timeout.ms',
    type: 'LONG',
    defaultValue: 5000,
    validator: Validators.atLeast(0),
    importance: 'LOW',
    documentation: 'How long a stopping task may take to drain in-flight work before it is abandoned.',
  })
  .define({
    name: 'worker.startup.timeout.ms',
    type: 'LONG',
    defaultValue: 120000,
    validator: Validators.atLeast(0),
    importance: 'LOW',
    documentation:
      'erpstream extension, distributed mode: how long start-up may take (reach Kafka, create and read the internal topics, retrying transient errors) before the worker exits non-zero with a message saying what it was doing.',
  })
  .define({
    name: 'outage.wait.timeout.ms',
    type: 'LONG',
    defaultValue: 900000,
    validator: Validators.atLeast(-1),
    importance: 'MEDIUM',
    documentation:
      'erpstream extension: how long tasks wait for a Kafka broker or schema registry that is down (or a topic not ready yet) before they fail; -1 waits forever. Connectors may override it with the same key.',
  })
  .define({
    name: 'task.auto.restart.enable',
    type: 'BOOLEAN',
    defaultValue: false,
    importance: 'MEDIUM',
    documentation:
      'erpstream extension: restart FAILED tasks automatically, with exponential backoff from 1 s up to task.auto.restart.backoff.max.ms.',
  })
  .define({
    name: 'task.auto.restart.backoff.max.ms',
    type: 'LONG',
    defaultValue: 300000,
    validator: Validators.atLeast(1000),
    importance: 'LOW',
    documentation: 'Longest wait between automatic restarts of a failing task.',
  })
  .define({
    name: 'rest.auth.type',
    type: 'STRING',
    defaultValue: 'none',
    validator: Validators.custom('[none, basic, bearer]', (name, v) => {
      if (!['none', 'basic', 'bearer'].includes(String(v)))
        throw ConfigError.invalid(name, v, 'Must be none, basic or bearer');
    }),
    importance: 'MEDIUM',
    documentation: 'REST authentication: none, basic (rest.auth.basic.*) or bearer (rest.auth.bearer.token).',
  })
  .define({
    name: 'rest.auth.basic.username',
    type: 'STRING',
    defaultValue: null,
    importance: 'MEDIUM',
    documentation: 'User name for basic authentication.',
  })
  .define({
    name: 'rest.auth.basic.password',
    type: 'PASSWORD',
    defaultValue: null,
    importance: 'MEDIUM',
    documentation: 'Password for basic authentication.',
  })
  .define({
    name: 'rest.auth.bearer.token',
    type: 'PASSWORD',
    defaultValue: null,
    importance: 'MEDIUM',
    documentation: 'Token for bearer authentication.',
  })
  .define({
    name: 'listeners.https.ssl.keystore.location',
    type: 'STRING',
    defaultValue: null,
    importance: 'MEDIUM',
    documentation:
      'For an https:// listener: a PEM file holding the private key and its certificate chain (unprefixed ssl.keystore.location also works).',
  })
  .define({
    name: 'listeners.https.ssl.keystore.type',
    type: 'STRING',
    defaultValue: 'PEM',
    importance: 'LOW',
    documentation: 'Keystore format of the https listener; only PEM is supported.',
  })
  .define({
    name: 'listeners.https.ssl.key.password',
    type: 'PASSWORD',
    defaultValue: null,
    importance: 'MEDIUM',
    documentation: 'Password of an encrypted private key in the keystore PEM file.',
  })
  .define({
    name: 'listeners.https.ssl.truststore.location',
    type: 'STRING',
    defaultValue: null,
    importance: 'LOW',
    documentation: 'PEM file of CA certificates that client certificates must chain to.',
  })
  .define({
    name: 'listeners.https.ssl.client.authentication',
    type: 'STRING',
    defaultValue: 'none',
    validator: Validators.inIgnoreCase('none', 'requested', 'required'),
    importance: 'LOW',
    documentation: 'Whether the https listener asks clients for a certificate: none, requested or required.',
  })
  .define({
    name: 'rest.request.max.bytes',
    type: 'INT',
    defaultValue: 1048576,
    validator: Validators.atLeast(1),
    importance: 'LOW',
    documentation: 'Largest accepted request body; larger ones get 413.',
  })
  .define({
    name: 'topic.tracking.enable',
    type: 'BOOLEAN',
    defaultValue: true,
    importance: 'LOW',
    documentation: 'Track the topics each connector uses (GET /connectors/{c}/topics).',
  })
  .define({
    name: 'topic.tracking.allow.reset',
    type: 'BOOLEAN',
    defaultValue: true,
    importance: 'LOW',
    documentation: 'Allow PUT /connectors/{c}/topics/reset.',
  })
  .define({
    name: 'console.enabled',
    type: 'BOOLEAN',
    defaultValue: true,
    importance: 'LOW',
    documentation:
      'Serve the operations console (a web page) at /console/ on the REST listener, with its auth and TLS. ' +
      'false: /console/ answers 404; the REST API, /erpstream/v1/... included, is unchanged.',
  })
  .define({
    name: 'console.history.interval.ms',
    type: 'INT',
    defaultValue: 5000,
    validator: Validators.between(1000, 60000),
    importance: 'LOW',
    documentation:
      'How often the worker samples its connectors for the console plots (GET /erpstream/v1/metrics/history). ' +
      'The history keeps one hour, in memory.',
  })
  .define({
    name: 'log.level',
    type: 'STRING',
    defaultValue: 'INFO',
    importance: 'LOW',
    documentation: 'Root log level (log4j names); change it live with PUT /admin/loggers/root.',
  });

export interface Listener {
  protocol: 'http' | 'https';
  host: string;
  port: number;
}

export interface WorkerConfig {
  parsed: ParsedConfig;
  /** Every given key as a string (converter and client sub-configs are read from here). */
  originals: Record<string, string>;
  listener: Listener;
  bootstrapServers: string[];
  offsetFile: string;
  configFile: string;
  offsetFlushIntervalMs: number;
  offsetFlushTimeoutMs: number;
  gracefulShutdownMs: number;
  mode: 'standalone' | 'distributed';
}

/** Parses a listener URL. An empty host (Connect's `http://:8083`) binds 127.0.0.1, not every interface. */
export function parseListener(url: string): Listener {
  const m = /^(https?):\/\/(\[[^\]]*\]|[^:/]*):(\d+)\/?$/.exec(url.trim());
  if (!m) throw ConfigError.invalid('listeners', url, 'Expected a URL like http://127.0.0.1:8083');
  const host = m[2] === '' ? '127.0.0.1' : m[2]!.replace(/^\[|\]$/g, '');
  return { protocol: m[1] as 'http' | 'https', host, port: Number(m[3]) };
}

export function parseWorkerConfig(raw: RawConfig, mode: 'standalone' | 'distributed' = 'standalone'): WorkerConfig {
  const parsed = workerConfigDef.parse(raw);
  const originals: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) if (v !== undefined && v !== null) originals[k] = String(v);
  const listeners = parsed.list('listeners');
  if (listeners.length === 0) throw ConfigError.invalid('listeners', '', 'At least one listener is required');
  if (mode === 'distributed') {
    for (const k of ['group.id', 'config.storage.topic', 'offset.storage.topic', 'status.storage.topic']) {
      if (!parsed.stringOrNull(k)) throw ConfigError.missing(k);
    }
    const topics = ['config.storage.topic', 'offset.storage.topic', 'status.storage.topic'].map((k) =>
      parsed.string(k),
    );
    if (new Set(topics).size !== 3) {
      throw new ConfigError(`The internal topics must be distinct, got ${topics.join(', ')}`, 'config.storage.topic');
    }
  }
  const offsetFile = path.resolve(parsed.string('offset.storage.file.filename'));
  return {
    parsed,
    originals,
    listener: parseListener(listeners[0]!),
    bootstrapServers: parsed.list('bootstrap.servers'),
    offsetFile,
    configFile: `${offsetFile}.connectors.json`,
    offsetFlushIntervalMs: parsed.int('offset.flush.interval.ms'),
    offsetFlushTimeoutMs: parsed.int('offset.flush.timeout.ms'),
    gracefulShutdownMs: parsed.int('task.shutdown.graceful.timeout.ms'),
    mode,
  };
}

/** Reads a `.properties`, `.json` or `.yaml`/`.yml` file into flat string settings. */
export async function readConfigFile(file: string): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`Cannot read config file ${file}: ${(e as Error).message}`);
  }
  const ext = path.extname(file).toLowerCase();
  if (ext === '.json' || ext === '.yaml' || ext === '.yml') {
    let doc: unknown;
    try {
      doc = ext === '.json' ? JSON.parse(text) : loadYaml(text, file);
    } catch (e) {
      throw new ConfigError(
        e instanceof YamlLoadError
          ? `Config file ${e.message}`
          : `Config file ${file} is not valid ${ext.slice(1).toUpperCase()}: ${(e as Error).message}`,
      );
    }
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
      throw new ConfigError(`Config file ${file} must hold an object of settings`);
    }
    return flattenSettings(doc as Record<string, unknown>, file);
  }
  return parseProperties(text);
}

/** Flat string map; a connector file in Connect's REST shape ({name, config}) is accepted too. */
function flattenSettings(doc: Record<string, unknown>, file: string): Record<string, string> {
  const source =
    typeof doc.config === 'object' && doc.config !== null && !Array.isArray(doc.config)
      ? { ...(doc.config as Record<string, unknown>), ...(typeof doc.name === 'string' ? { name: doc.name } : {}) }
      : doc;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(source)) {
    if (v === null || v === undefined) continue;
    if (typeof v === 'object') {
      throw new ConfigError(`Setting ${k} in ${file} must be a string, number or boolean`, k);
    }
    out[k] = String(v);
  }
  return out;
}

export async function loadWorkerConfig(
  file: string | undefined,
  mode: 'standalone' | 'distributed' = 'standalone',
  overrides: Record<string, string> = {},
): Promise<WorkerConfig> {
  const raw = file ? await readConfigFile(file) : {};
  return parseWorkerConfig({ ...raw, ...overrides }, mode);
}
