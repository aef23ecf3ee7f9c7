import {
  ConfigDef,
  type Converter,
  type ConverterPlugin,
  DataError,
  type Headers,
  type RawConfig,
  type Schema,
  type SchemaAndValue,
  SchemaError,
  Validators,
} from '../../api/index.js';
import { parseJsonExact, stringifyJsonExact } from '../../api/exact-json.js';
import { type AvroSchema, avroToConnectSchema, connectToAvroSchema } from './avro-schema.js';
import { compileFromAvro, compileToAvro } from './avro-values.js';
import { type AvscType, avscType } from './avsc-types.js';
import { compileConnectEncoder } from './avro-connect-writer.js';
import { type AvroEncoder, compileAvroEncoder } from './avro-writer.js';
import { LruCache } from '../lru-cache.js';
import { RegistryClient } from './registry-client.js';
import { SUBJECT_STRATEGY_NAMES, type SubjectNameStrategy, subjectNameStrategy } from './subject-name-strategy.js';

export const AVRO_CONVERTER_CLASS = 'io.confluent.connect.avro.AvroConverter';
const MAGIC_BYTE = 0;

const strategyKey = (name: string): Parameters<ConfigDef['define']>[0] => ({
  name,
  type: 'CLASS',
  defaultValue: 'io.confluent.kafka.serializers.subject.TopicNameStrategy',
  importance: 'MEDIUM',
  documentation:
    'How the registry subject is named: TopicNameStrategy (<topic>-key / <topic>-value), RecordNameStrategy ' +
    '(the record full name) or TopicRecordNameStrategy (<topic>-<record full name>).',
  validator: Validators.custom(
    `[${SUBJECT_STRATEGY_NAMES.join(', ')}]`,
    (key, v) => void subjectNameStrategy(key, String(v)),
  ),
  group: 'Subjects',
});

const config = new ConfigDef()
  .define({
    name: 'schema.registry.url',
    type: 'LIST',
    importance: 'HIGH',
    documentation:
      "Schema registry base URL (Confluent API), e.g. http://127.0.0.1:8081 or Apicurio's http://host:8080/apis/ccompat/v7. " +
      'The first URL of a list is used.',
    validator: Validators.nonEmptyList(),
    group: 'Registry',
  })
  .define({
    name: 'basic.auth.user.info',
    type: 'PASSWORD',
    defaultValue: null,
    importance: 'MEDIUM',
    documentation: 'user:password for HTTP basic auth to the registry. Credentials in the URL work too.',
    group: 'Registry',
  })
  .define({
    name: 'basic.auth.credentials.source',
    type: 'STRING',
    defaultValue: 'URL',
    importance: 'LOW',
    documentation:
      'Accepted for compatibility (URL, USER_INFO). basic.auth.user.info is used whenever it is set, whatever this says.',
    validator: Validators.inIgnoreCase('URL', 'USER_INFO', 'SASL_INHERIT'),
    group: 'Registry',
  })
  .define({
    name: 'schema.registry.request.timeout.ms',
    type: 'INT',
    defaultValue: 30_000,
    importance: 'LOW',
    documentation:
      'The most one registry call may take (its HTTP retries included) before the registry counts as unreachable: ' +
      'the record is retried, nothing is remembered about its schema. Without it a registry that accepted the ' +
      'connection and never answered held the task, and every record of that schema, forever.',
    validator: Validators.atLeast(1),
    group: 'Registry',
  })
  .define({
    name: 'auto.register.schemas',
    type: 'BOOLEAN',
    defaultValue: true,
    importance: 'MEDIUM',
    documentation: 'Register the schema of written data under its subject when it is not there yet.',
    group: 'Subjects',
  })
  .define({
    name: 'use.latest.version',
    type: 'BOOLEAN',
    defaultValue: false,
    importance: 'LOW',
    documentation:
      "With auto.register.schemas=false: write with the subject's latest schema instead of looking up the data's own.",
    group: 'Subjects',
  })
  .define({
    name: 'missing.id.cache.ttl.sec',
    type: 'LONG',
    // Confluent's default is 0 (off): then a stream of records naming an unknown id costs a registry request each,
    // and a burst of them reaches the dead letter queue at the registry's pace instead of the converter's.
    defaultValue: 30,
    importance: 'LOW',
    documentation:
      'Seconds a schema id the registry does not have (or that cannot be read) is remembered as such: records naming ' +
      'it fail at once, without a request each. 0 asks the registry for every record. An unreachable or failing ' +
      'registry (5xx) is never remembered: those records are retried.',
    validator: Validators.atLeast(0),
    group: 'Registry',
  })
  .define({
    name: 'missing.schema.cache.ttl.sec',
    type: 'LONG',
    // As for ids: without it, with auto.register.schemas=false and the schema not registered (or the registry
    // refusing to register it), every record was a registry request on its way to the dead letter queue. One second,
    // not 30 as for ids: a refused schema is what an operator fixes (registers it) while the source runs, and every
    // record failing meanwhile is skipped or dead-lettered; an unknown id never comes back.
    defaultValue: 1,
    importance: 'LOW',
    documentation:
      'Seconds a schema the registry refused for a subject (not registered with auto.register.schemas=false, no ' +
      'version with use.latest.version, registration refused) is remembered as such: records with that schema fail ' +
      'at once, without a request each. 0 asks the registry for every record. An unreachable or failing registry ' +
      '(5xx) is never remembered.',
    validator: Validators.atLeast(0),
    group: 'Registry',
  })
  .define({
    name: 'missing.cache.size',
    type: 'INT',
    defaultValue: 10_000,
    importance: 'LOW',
    documentation:
      'How many schema ids that cannot be read are remembered (missing.id.cache.ttl.sec); the least recently seen go first.',
    validator: Validators.atLeast(0),
    group: 'Registry',
  })
  .define(strategyKey('key.subject.name.strategy'))
  .define(strategyKey('value.subject.name.strategy'))
  .define({
    name: 'converter.type',
    type: 'STRING',
    defaultValue: null,
    importance: 'LOW',
    documentation: 'key, value or header; set by the worker. Informational here.',
  });

/** What one Connect schema compiles to; cached by schema identity. */
interface WriterState {
  readonly avroText: string;
  readonly type: AvscType;
  readonly recordName: string | undefined;
  readonly fast: AvroEncoder | null;
  /** Connect value → bytes in one pass, when the subject's schema is this one (not use.latest.version's). */
  readonly direct: AvroEncoder | null;
  readonly toAvro: (value: unknown) => unknown;
  /** subject → schema id (and, with use.latest.version, the type to write with). */
  readonly ids: Map<string, Promise<WriteTarget>>;
  readonly resolved: Map<string, WriteTarget>;
  /** subject → the registry's final refusal and until when it stands (missing.schema.cache.ttl.sec). */
  readonly refused: Map<string, Refusal>;
}

/** The registry's final answer for an id or a subject, and until when it is taken as still standing. */
interface Refusal {
  readonly error: Error;
  readonly until: number;
}

/**
 * Whether a registry failure is its final answer (not found, not Avro, unreadable, incompatible) and may be
 * remembered: an unreachable or failing registry (RetriableError) is asked again, and refused credentials (ConfigError)
 * say nothing about the schema.
 */
const isFinalAnswer = (e: unknown): e is DataError | SchemaError => e instanceof DataError || e instanceof SchemaError;

/** A remembered refusal that still stands. */
const stands = (r: Refusal | undefined): r is Refusal => r !== undefined && Date.now() < r.until;

/** What a subject's records are written with: the schema id, and avsc's type with its compiled encoder. */
interface WriteTarget {
  readonly id: number;
  readonly type: AvscType;
  readonly fast: AvroEncoder | null;
}

interface ReaderState {
  readonly type: AvscType;
  readonly schema: Schema;
  readonly fromAvro: (value: unknown) => unknown;
}

/**
 * Confluent's AvroConverter: Confluent wire format (magic byte 0, 4-byte big-endian schema id, Avro
 * binary) with schemas in a Confluent-API registry. The registry is called once per schema and subject
 * (writes) or schema id (reads); every later record is pure CPU.
 */
export class AvroConverter implements Converter {
  private registry!: RegistryClient;
  private isKey = false;
  private autoRegister = true;
  private useLatest = false;
  private strategy!: SubjectNameStrategy;
  private readonly writers = new WeakMap<Schema, WriterState>();
  private readonly readers = new Map<number, Promise<ReaderState>>();
  private readonly resolvedReaders = new Map<number, ReaderState>();
  /**
   * Schema ids the registry answered for with a final error (not found, not Avro, unreadable), until when they are
   * known to fail. Without it every record naming such an id was a registry request: a poison stream of 100,000
   * records of an unknown id was 100,000 requests before the last of them reached the dead letter queue.
   */
  private missing = new LruCache<number, Refusal>(0);
  private missingTtlMs = 0;
  private refusedTtlMs = 0;
  private scratch = Buffer.alloc(64 * 1024);
  private lastSubject: { topic: string; recordName: string | undefined; subject: string } | undefined;

  configure(props: RawConfig, isKey = false): void {
    const c = config.parse(props);
    this.isKey = isKey;
    this.registry = new RegistryClient({
      url: c.list('schema.registry.url')[0]!,
      ...(c.password('basic.auth.user.info') ? { userInfo: c.password('basic.auth.user.info')!.value() } : {}),
      timeoutMs: c.int('schema.registry.request.timeout.ms'),
    });
    this.autoRegister = c.bool('auto.register.schemas');
    this.useLatest = c.bool('use.latest.version');
    const key = isKey ? 'key.subject.name.strategy' : 'value.subject.name.strategy';
    this.strategy = subjectNameStrategy(key, c.string(key));
    this.missingTtlMs = c.int('missing.id.cache.ttl.sec') * 1000;
    this.refusedTtlMs = c.int('missing.schema.cache.ttl.sec') * 1000;
    this.missing = new LruCache(this.missingTtlMs > 0 ? c.int('missing.cache.size') : 0);
  }

  async fromConnectData(
    topic: string,
    headers: Headers,
    schema: Schema | null,
    value: unknown,
  ): Promise<Buffer | null> {
    const ready = this.fromConnectDataSync(topic, headers, schema, value);
    if (ready !== undefined) return ready;
    const w = this.writer(schema!);
    const subject = this.subjectFor(topic, w.recordName);
    let pending = w.ids.get(subject);
    if (pending === undefined) {
      const refused = w.refused.get(subject);
      if (stands(refused)) throw refused.error;
      pending = this.resolveId(subject, w);
      w.ids.set(subject, pending);
      // A failed lookup must not poison the cache: the next record retries, at once after an unreachable or failing
      // registry, after missing.schema.cache.ttl.sec after a final refusal.
      pending.then(
        (r) => {
          w.resolved.set(subject, r);
          w.refused.delete(subject);
        },
        (e: unknown) => {
          w.ids.delete(subject);
          if (isFinalAnswer(e) && this.refusedTtlMs > 0) {
            w.refused.set(subject, { error: e, until: Date.now() + this.refusedTtlMs });
          }
        },
      );
    }
    return this.encode(topic, subject, await pending, w, value);
  }

  /**
   * fromConnectData without a promise, once the schema id of this schema and subject is known (every record after
   * the first): `undefined` means the id must be looked up first, through fromConnectData.
   */
  fromConnectDataSync(
    topic: string,
    _headers: Headers,
    schema: Schema | null,
    value: unknown,
  ): Buffer | null | undefined {
    if (value === null || value === undefined) {
      if (schema === null || schema.optional || schema.defaultValue === undefined) return null;
    }
    if (schema === null) {
      throw new DataError(
        `AvroConverter needs a schema, but the ${this.isKey ? 'key' : 'value'} for topic "${topic}" has none; ` +
          'use JsonConverter with schemas.enable=false for schemaless data',
      );
    }
    const w = this.writer(schema);
    const subject = this.subjectFor(topic, w.recordName);
    const target = w.resolved.get(subject);
    return target === undefined ? undefined : this.encode(topic, subject, target, w, value);
  }

  private encode(topic: string, subject: string, target: WriteTarget, w: WriterState, value: unknown): Buffer {
    const { id, type, fast } = target;
    // Encode straight after the 5-byte header in a reused buffer, then copy once.
    let end = -1;
    if (w.direct !== null && type === w.type) {
      try {
        end = w.direct(value, this.scratch, 5);
        while (end < 0) {
          this.scratch = Buffer.alloc(Math.max(this.scratch.length * 2, this.scratch.length - end));
          end = w.direct(value, this.scratch, 5);
        }
      } catch {
        // Not covered (or invalid): the general path below converts it, or names what is wrong.
        end = -1;
      }
    }
    if (end >= 0) return this.framed(id, end);
    const avroValue = w.toAvro(value);
    try {
      if (fast !== null) {
        try {
          end = fast(avroValue, this.scratch, 5);
          while (end < 0) {
            this.scratch = Buffer.alloc(Math.max(this.scratch.length * 2, this.scratch.length - end));
            end = fast(avroValue, this.scratch, 5);
          }
        } catch {
          // Not covered by the compiled encoder (or invalid): avsc writes it, or names what is wrong.
          end = -1;
        }
      }
      if (end < 0) {
        end = type.encode(avroValue, this.scratch, 5);
        while (end < 0) {
          this.scratch = Buffer.alloc(Math.max(this.scratch.length * 2, this.scratch.length - end));
          end = type.encode(avroValue, this.scratch, 5);
        }
      }
    } catch (e) {
      throw new DataError(
        `Cannot write the ${this.isKey ? 'key' : 'value'} for topic "${topic}" with schema id ${id} (subject "${subject}"): ${(e as Error).message}`,
        undefined,
        { cause: e },
      );
    }
    return this.framed(id, end);
  }

  /** The wire format's header in front of the body encoded at scratch[5, end), as a buffer of its own. */
  private framed(id: number, end: number): Buffer {
    this.scratch[0] = MAGIC_BYTE;
    this.scratch.writeInt32BE(id, 1);
    const out = Buffer.allocUnsafe(end);
    this.scratch.copy(out, 0, 0, end);
    return out;
  }

  async toConnectData(topic: string, headers: Headers, bytes: Buffer | null): Promise<SchemaAndValue> {
    const ready = this.toConnectDataSync(topic, headers, bytes);
    if (ready !== undefined) return ready;
    const id = bytes!.readInt32BE(1);
    let pending = this.readers.get(id);
    if (pending === undefined) {
      const known = this.missing.get(id);
      // The error the registry's answer made the first time: the records naming this id go to the DLQ at speed.
      if (stands(known)) throw known.error;
      pending = this.resolveReader(id);
      this.readers.set(id, pending);
      pending.then(
        (ok) => this.resolvedReaders.set(id, ok),
        (e: unknown) => {
          this.readers.delete(id);
          if (isFinalAnswer(e) && this.missingTtlMs > 0) {
            this.missing.set(id, { error: e, until: Date.now() + this.missingTtlMs });
          }
        },
      );
    }
    return this.decode(topic, id, await pending, bytes!);
  }

  /**
   * toConnectData without a promise, once the writer schema of this id is known (every record after the first of a
   * schema): `undefined` means it must be fetched first, through toConnectData.
   */
  toConnectDataSync(topic: string, _headers: Headers, bytes: Buffer | null): SchemaAndValue | undefined {
    if (bytes === null || bytes === undefined) return { schema: null, value: null };
    if (bytes.length < 5 || bytes[0] !== MAGIC_BYTE) {
      const first = bytes.length === 0 ? 'none (empty message)' : `0x${bytes[0]!.toString(16).padStart(2, '0')}`;
      throw new DataError(
        `Unknown magic byte ${first} in ${this.isKey ? 'key' : 'value'} of topic "${topic}": expected 0x00 (Confluent wire format: ` +
          `magic byte, 4-byte schema id, Avro binary) in at least 5 bytes, got ${bytes.length}`,
      );
    }
    const id = bytes.readInt32BE(1);
    const r = this.resolvedReaders.get(id);
    return r === undefined ? undefined : this.decode(topic, id, r, bytes);
  }

  private decode(topic: string, id: number, r: ReaderState, bytes: Buffer): SchemaAndValue {
    let value: unknown;
    try {
      // Converting is reading too: a decimal, date or timestamp out of range is named with the schema id and topic.
      value = r.fromAvro(r.type.fromBuffer(bytes.subarray(5)));
    } catch (e) {
      throw new DataError(
        `Cannot read Avro data with schema id ${id} in ${this.isKey ? 'key' : 'value'} of topic "${topic}": ${(e as Error).message}`,
        undefined,
        { cause: e },
      );
    }
    return { schema: r.schema, value };
  }

  /** The subject for a topic and record name; the last answer is kept (a task writes few topics). */
  private subjectFor(topic: string, recordName: string | undefined): string {
    const last = this.lastSubject;
    if (last !== undefined && last.topic === topic && last.recordName === recordName) return last.subject;
    const subject = this.strategy(topic, this.isKey, recordName);
    this.lastSubject = { topic, recordName, subject };
    return subject;
  }

  private writer(schema: Schema): WriterState {
    let w = this.writers.get(schema);
    if (w === undefined) {
      const avro = connectToAvroSchema(schema);
      const type = avscType(avro);
      w = {
        avroText: stringifyJsonExact(avro),
        type,
        fast: compileAvroEncoder(avro),
        direct: compileConnectEncoder(schema, avro),
        recordName: recordFullName(avro),
        toAvro: compileToAvro(schema),
        ids: new Map(),
        resolved: new Map(),
        refused: new Map(),
      };
      this.writers.set(schema, w);
    }
    return w;
  }

  private async resolveId(subject: string, w: WriterState): Promise<WriteTarget> {
    if (this.autoRegister) {
      return { id: await this.registry.register(subject, w.avroText), type: w.type, fast: w.fast };
    }
    if (this.useLatest) {
      const latest = await this.registry.latest(subject);
      const schema = JSON.parse(latest.schema) as AvroSchema;
      return { id: latest.id, type: avscType(schema), fast: compileAvroEncoder(schema) };
    }
    const found = await this.registry.lookup(subject, w.avroText);
    if (found === null) {
      throw new DataError(
        `The schema is not registered under subject "${subject}" at ${this.registry.safeUrl} and auto.register.schemas=false ` +
          '(register it first, or set use.latest.version=true to write with the latest version)',
      );
    }
    return { id: found.id, type: w.type, fast: w.fast };
  }

  private async resolveReader(id: number): Promise<ReaderState> {
    const text = await this.registry.schemaById(id);
    try {
      // Exact parse for the Connect schema (int64 defaults beyond 2^53); avsc wants plain JSON numbers.
      const schema = avroToConnectSchema(parseJsonExact(text) as AvroSchema);
      return { type: avscType(JSON.parse(text) as AvroSchema), schema, fromAvro: compileFromAvro(schema) };
    } catch (e) {
      // The registry's schema is data too (any producer registers one): what we cannot read is an error of the
      // records that name it, with the id, never avsc's bare Error or a RangeError.
      throw new SchemaError(
        `Cannot read records of schema id ${id} (${this.registry.safeUrl}): ${(e as Error).message}`,
        { cause: e },
      );
    }
  }
}

function recordFullName(avro: AvroSchema): string | undefined {
  const t = Array.isArray(avro) ? avro.find((x) => x !== 'null') : avro;
  if (typeof t !== 'object' || t === null || Array.isArray(t) || t.type !== 'record') return undefined;
  return t.namespace ? `${String(t.namespace)}.${String(t.name)}` : String(t.name);
}

export const avroConverterPlugin: ConverterPlugin = {
  type: 'converter',
  className: AVRO_CONVERTER_CLASS,
  aliases: ['AvroConverter'],
  version: '7.7.0',
  config,
  summary: 'Avro in the Confluent wire format with a schema registry (Confluent / Apicurio ccompat / Redpanda).',
  example: {
    'value.converter': AVRO_CONVERTER_CLASS,
    'value.converter.schema.registry.url': 'http://127.0.0.1:8081/apis/ccompat/v7',
  },
  create: () => new AvroConverter(),
};
