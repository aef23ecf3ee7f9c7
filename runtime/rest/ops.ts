import {
  type ConnectorAdmin,
  type SinkRecord,
  adminOf,
  customerOf,
  scrubSecrets,
  secretValues,
  secretTest,
} from '../api/index.js';
import { ConfigTransformer, configProvidersFromWorkerConfig } from '../config-providers/index.js';
import { type Kafka, RecordProducer, createKafka } from '../kafka/index.js';
import type { ReadRecord } from '../kafka/topic-reader.js';
import type { PluginRegistry } from '../plugins/registry.js';
import { TransformChain } from '../transforms/index.js';
import { converterSettings } from '../worker/connector-settings.js';
import { type TaskConverters, createConverters, rawToHeaders } from '../worker/task-context.js';
import type { RestAuth } from './server.js';

/**
 * What the /erpstream/v1 operations endpoints need beyond the herder: Kafka (to read DLQ and data topics, and to
 * re-produce redriven records), the connectors' inspection capability (runtime/api/admin.ts) opened with their
 * resolved configs, and how to reach the other workers. Built once per REST server; closed with it.
 */
export interface OpsOptions {
  registry: PluginRegistry;
  workerProps: Readonly<Record<string, string>>;
  converterDefaults: { key: string; value: string; header: string };
  bootstrapServers: readonly string[];
  protocol: 'http' | 'https';
  auth?: RestAuth;
  /** How the worker resolves `${provider:…}` placeholders for its tasks (Herder.services); else a transformer of our own. */
  resolveConfig?: (config: Record<string, string>) => Promise<Record<string, string>>;
}

/** A connector opened for inspection: its admin capability and the way its tasks read records. */
export interface Inspected {
  readonly connector: string;
  readonly customer: string;
  readonly admin: ConnectorAdmin;
  /** The record as the connector's tasks get it (its converters and transforms), or null when they would drop it. */
  toSinkRecord(r: ReadRecord): Promise<SinkRecord | null>;
  /** Removes the connector's secret values (passwords, also as resolved by config providers) from a text. */
  scrub(text: string): string;
}

interface CacheEntry {
  fingerprint: string;
  opened: Promise<Inspected>;
  close: () => Promise<void>;
  lastUsed: number;
}

/** Admins (database connections) idle this long are closed. */
const IDLE_MS = 60_000;

export class OpsServices {
  private kafkaClient: Kafka | null = null;
  private readonly transformer: ConfigTransformer;
  private readonly cache = new Map<string, CacheEntry>();
  /** Secret values of every connector opened so far (kept after closing: an old error may still quote one). */
  private readonly secrets = new Set<string>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(readonly o: OpsOptions) {
    this.transformer = new ConfigTransformer(configProvidersFromWorkerConfig(o.workerProps));
    this.sweeper = setInterval(() => void this.sweep(), IDLE_MS / 2);
    this.sweeper.unref();
  }

  get kafka(): Kafka {
    this.kafkaClient ??= createKafka({
      brokers: [...this.o.bootstrapServers],
      clientId: 'erpstream-console',
      logLevel: 'nothing',
    });
    return this.kafkaClient;
  }

  /** The data-path producer, for a redrive; the caller closes it. */
  producer(): Promise<RecordProducer> {
    return RecordProducer.connect({ brokers: [...this.o.bootstrapServers], clientId: 'erpstream-redrive' });
  }

  /** `Authorization` for requests to other workers of the group (the same credentials every worker takes). */
  get peerAuthorization(): string | undefined {
    const a = this.o.auth;
    if (!a) return undefined;
    return a.type === 'basic'
      ? `Basic ${Buffer.from(`${a.username}:${a.password}`).toString('base64')}`
      : `Bearer ${a.token}`;
  }

  /** Whether the connector's plugin offers inspection (a LookupSink does). */
  inspectable(config: Readonly<Record<string, string>>): boolean {
    return adminOf(this.pluginOf(config)) !== null;
  }

  private pluginOf(config: Readonly<Record<string, string>>) {
    const cls = config['connector.class'] ?? '';
    return this.o.registry.find('sink', cls) ?? this.o.registry.find('source', cls);
  }

  /** Opens (or reuses) a connector for inspection; null when its plugin has no inspection capability. */
  async inspect(connector: string, raw: Readonly<Record<string, string>>): Promise<Inspected | null> {
    const factory = adminOf(this.pluginOf(raw));
    if (!factory) return null;
    const fingerprint = JSON.stringify(Object.entries(raw).sort(([a], [b]) => a.localeCompare(b)));
    const cached = this.cache.get(connector);
    if (cached && cached.fingerprint === fingerprint) {
      cached.lastUsed = Date.now();
      return cached.opened;
    }
    if (cached) {
      this.cache.delete(connector);
      await cached.close();
    }
    const closers: Array<() => Promise<void>> = [];
    const close = async () => {
      for (const c of closers.splice(0)) await c().catch(() => {});
    };
    const opened = (async (): Promise<Inspected> => {
      const config = this.o.resolveConfig
        ? await this.o.resolveConfig({ ...raw })
        : (await this.transformer.transform(raw)).data;
      const passwordKeys = this.o.registry.connectorPasswordKeys(config['connector.class']);
      const secrets = [
        ...new Set([...secretValues(raw, secretTest(passwordKeys)), ...secretValues(config, secretTest(passwordKeys))]),
      ];
      for (const v of secrets) this.secrets.add(v);
      const scrub = (text: string) => scrubSecrets(text, secrets);
      let converters: TaskConverters | null = null;
      let chain: TransformChain<SinkRecord> | null = null;
      closers.push(async () => {
        await chain?.close();
        await converters?.key.close?.();
        await converters?.value.close?.();
      });
      try {
        const admin = await factory(config);
        closers.unshift(() => admin.close());
        converters = await createConverters(
          this.o.registry,
          converterSettings(config),
          this.o.workerProps,
          this.o.converterDefaults,
        );
        chain = await TransformChain.build<SinkRecord>(config, { registry: this.o.registry });
        const conv = converters;
        const ch = chain;
        return {
          connector,
          customer: customerOf(connector, raw),
          admin,
          scrub,
          async toSinkRecord(r: ReadRecord): Promise<SinkRecord | null> {
            try {
              const headers = rawToHeaders(r.topic, r.headers, conv.header);
              const key = await conv.key.toConnectData(r.topic, headers, r.key);
              const value = await conv.value.toConnectData(r.topic, headers, r.value);
              return ch.apply({
                topic: r.topic,
                kafkaPartition: r.partition,
                keySchema: key.schema,
                key: key.value,
                valueSchema: value.schema,
                value: value.value,
                timestamp: r.timestamp,
                headers,
                kafkaOffset: r.offset,
                timestampType: 'CreateTime',
                originalTopic: r.topic,
                originalKafkaPartition: r.partition,
                originalKafkaOffset: r.offset,
              });
            } catch {
              return null; // a record the task could not read either: not this key's
            }
          },
        };
      } catch (e) {
        await close();
        // A plain Error on purpose: only the scrubbed message may leave, and the console answers a connector that
        // cannot be opened as its backend's failure, whatever the cause's code (the cause stays for the log).
        throw new Error(scrub(e instanceof Error ? e.message : String(e)), { cause: e });
      }
    })();
    const entry: CacheEntry = { fingerprint, opened, close, lastUsed: Date.now() };
    this.cache.set(connector, entry);
    opened.catch(() => {
      if (this.cache.get(connector) === entry) this.cache.delete(connector);
    });
    return opened;
  }

  /** Removes every inspected connector's secret values from a text (error messages of any endpoint). */
  scrub(text: string): string {
    return this.secrets.size === 0 ? text : scrubSecrets(text, [...this.secrets]);
  }

  private async sweep(): Promise<void> {
    const now = Date.now();
    for (const [name, e] of [...this.cache]) {
      if (now - e.lastUsed < IDLE_MS) continue;
      this.cache.delete(name);
      await e.close();
    }
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    const all = [...this.cache.values()];
    this.cache.clear();
    for (const e of all) await e.close();
  }
}
