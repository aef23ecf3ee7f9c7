import { type Converter, type HeaderConverter, Headers, type Logger, type Schema } from '../api/index.js';
import type { WaitingStatus } from '../errors/outage.js';
import type { PluginRegistry } from '../plugins/registry.js';
import {
  HEADER_CONVERTER_CLASS_CONFIG,
  KEY_CONVERTER_CLASS_CONFIG,
  VALUE_CONVERTER_CLASS_CONFIG,
} from './connector-config.js';
import type { ConverterSetting, ConverterSettings } from './connector-settings.js';
import type { RawHeaders } from './kafka-port.js';

/** The converters a task uses: the connector's own (`key.converter` …) or else the worker's defaults. */
export interface TaskConverters {
  key: Converter;
  keyClass: string;
  value: Converter;
  valueClass: string;
  header: HeaderConverter;
  headerClass: string;
}

function withPrefix(props: Readonly<Record<string, string>>, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(props)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
  return out;
}

/**
 * Creates and configures the task's converters: the connector's own (with its sub-config), else the worker's default
 * class with the worker's `<key>.converter.*` sub-config.
 */
export async function createConverters(
  registry: PluginRegistry,
  own: ConverterSettings,
  workerConfig: Readonly<Record<string, string>>,
  workerDefaults: { key: string; value: string; header: string },
): Promise<TaskConverters> {
  const pick = (setting: ConverterSetting, key: string, dflt: string) =>
    setting.className !== null
      ? { cls: setting.className, props: { ...setting.props } }
      : { cls: dflt, props: withPrefix(workerConfig, `${key}.`) };
  const k = pick(own.key, KEY_CONVERTER_CLASS_CONFIG, workerDefaults.key);
  const v = pick(own.value, VALUE_CONVERTER_CLASS_CONFIG, workerDefaults.value);
  const h = pick(own.header, HEADER_CONVERTER_CLASS_CONFIG, workerDefaults.header);
  const key = registry.get('converter', k.cls).create();
  await key.configure(k.props, true);
  const value = registry.get('converter', v.cls).create();
  await value.configure(v.props, false);
  const header = registry.get('header_converter', h.cls).create();
  await header.configure(h.props);
  return { key, keyClass: k.cls, value, valueClass: v.cls, header, headerClass: h.cls };
}

export function headersToRaw(topic: string, headers: Headers, converter: HeaderConverter): RawHeaders {
  return headers.map((h) => [h.key, converter.fromConnectHeader(topic, h.key, h.schema as Schema | null, h.value)]);
}

export function rawToHeaders(topic: string, raw: RawHeaders, converter: HeaderConverter): Headers {
  // Most records carry none: one shared frozen list instead of a new one per record.
  if (raw.length === 0) return Headers.empty;
  return Object.freeze(
    raw.map(([key, bytes]) => {
      const sv = converter.toConnectHeader(topic, key, bytes);
      return { key, value: sv.value, schema: sv.schema };
    }),
  );
}

/** What a task's conversion step answers for a record the error policy tolerated and dropped. */
export const SKIPPED = Symbol('skipped');

export type TaskState = 'UNASSIGNED' | 'RUNNING' | 'PAUSED' | 'FAILED';

export interface TaskListener {
  onState(state: TaskState, error?: unknown): void;
  /**
   * The task waits for an outage to end (broker, registry, database), or (null) no longer does. Its state stays
   * RUNNING meanwhile; the worker shows this in the task's status.
   */
  onWaiting?(waiting: WaitingStatus | null): void;
}

/** A promise that can be resolved from outside (pause gates, stop signals). */
export class Gate {
  private resolveFn: (() => void) | null = null;
  private promise: Promise<void> | null = null;
  get closed(): boolean {
    return this.promise !== null;
  }
  close(): void {
    if (this.promise) return;
    this.promise = new Promise((r) => (this.resolveFn = r));
  }
  open(): void {
    this.resolveFn?.();
    this.promise = null;
    this.resolveFn = null;
  }
  wait(): Promise<void> {
    return this.promise ?? Promise.resolve();
  }
}

export function closeQuietly(logger: Logger, what: string, fn: () => unknown): Promise<void> {
  return Promise.resolve()
    .then(fn)
    .then(
      () => undefined,
      (e: unknown) => logger.warn(`Failed to close ${what}`, { error: e }),
    );
}
