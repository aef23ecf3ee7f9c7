import { workerConfigDef } from '../runtime/worker/config.js';
import { type UnknownKey, didYouMeanText, findUnknownKeys } from '../runtime/worker/unknown-keys.js';

/**
 * Worker settings read from the raw config besides the declared ones: distributed mode's internal-topic and group
 * timing settings, and the producer's compression (runtime/launch reads them from the originals).
 */
const READ_FROM_ORIGINALS = [
  'config.storage.replication.factor',
  'offset.storage.replication.factor',
  'status.storage.replication.factor',
  'offset.storage.partitions',
  'status.storage.partitions',
  'heartbeat.interval.ms',
  'session.timeout.ms',
  'rebalance.timeout.ms',
  'producer.compression.type',
];

/** Prefixes whose keys belong to someone else: Kafka clients, converters, config providers, the HTTPS listener. */
const WORKER_PASS_THROUGH = [
  'producer.',
  'consumer.',
  'admin.',
  'config.providers.',
  'listeners.https.',
  'ssl.',
  'sasl.',
  'security.',
];

/**
 * Keys of a worker config the worker does not read. It ignores them, as Connect does, but Connect at least logs
 * "was supplied but isn't a known config"; without a word, `bootstrap.server=kafka:9092` starts a worker on the
 * default localhost:9092.
 */
export function unknownWorkerKeys(raw: Readonly<Record<string, string>>): UnknownKey[] {
  return findUnknownKeys(raw, {
    names: [...workerConfigDef.names(), ...READ_FROM_ORIGINALS],
    prefixes: WORKER_PASS_THROUGH,
  });
}

/** One stderr line per unknown key, naming the file and what was probably meant. */
export function unknownWorkerKeyWarnings(raw: Readonly<Record<string, string>>, file: string): string[] {
  return unknownWorkerKeys(raw).map((u) => {
    const hint = didYouMeanText(u.suggestions);
    return `warning: worker config ${file}: unknown key "${u.key}" is not a setting of the erpstream worker, so it is ignored${hint ? `; ${hint}` : ' (docs/worker.md lists the settings)'}`;
  });
}
