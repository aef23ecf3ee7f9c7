/**
 * The one catalog of error codes (fastify's `lib/errors.js`, platformatic's `errorCodes as const`). A code is a
 * promise to users: they search for it, scripts match on it, docs/errors.md explains it (a test keeps the table and
 * this catalog equal, and another fails on a code thrown anywhere in the source that is not listed here).
 *
 * The prefix names the owner: `ERPSTREAM_` for the framework and the built-in transforms and converters; a plugin's
 * own codes start with the plugin's name (`LOOKUP_SINK_`), as a third-party plugin's would.
 *
 * No HTTP status here: the runtime raises domain errors (not found, conflict, rebalance in progress…) and only the
 * REST edge (runtime/rest/error-status.ts) says which status each code answers, as Connect's ConnectExceptionMapper.
 */
export interface ErrorCodeSpec {
  /** What happened, for docs/errors.md. */
  readonly meaning: string;
  /** The default of `ErpStreamError.retriable`: the runtime retries these instead of failing the task. */
  readonly retriable: boolean;
  /** The message when the thrower gives none; `{name}` is filled from the error's params. */
  readonly message: string;
}

export const errorCatalog = {
  // Configuration and data
  ERPSTREAM_CONFIG: {
    meaning:
      'A config key is missing, malformed or out of range. The message names the key and (unless secret) the value.',
    retriable: false,
    message: 'Invalid value {value} for configuration {key}: {reason}',
  },
  ERPSTREAM_DATA: {
    meaning: 'A record or value does not fit what a transform, converter or schema expects; names the field path.',
    retriable: false,
    message: 'Invalid data at {field}: {reason}',
  },
  ERPSTREAM_SCHEMA: {
    meaning: 'A schema is invalid, or two schemas are incompatible.',
    retriable: false,
    message: 'Invalid schema: {reason}',
  },
  ERPSTREAM_YAML: {
    meaning:
      'A YAML file (connector, integration, context, worker or transform file) cannot be loaded; names file and line.',
    retriable: false,
    message: '{source}: {reason}',
  },
  ERPSTREAM_STATE_FILE: {
    meaning: "A standalone worker's state file is not valid JSON.",
    retriable: false,
    message: 'State file {file} is not valid JSON; fix or move it away',
  },
  ERPSTREAM_STATE_FILE_IN_USE: {
    meaning: "Another running standalone worker holds the offsets file (two would overwrite each other's offsets).",
    retriable: false,
    message: 'Offsets file {file} is in use by another standalone worker (pid {pid})',
  },
  ERPSTREAM_INTEGRATION_FILE: {
    meaning: 'An integration or golden-test file cannot be compiled; names the file and field path and what to fix.',
    retriable: false,
    message: '{file}: {path}: {reason}',
  },
  // Plugins
  ERPSTREAM_PLUGIN_NOT_FOUND: {
    meaning: 'A transform, predicate, converter or config provider class or alias that no installed plugin provides.',
    retriable: false,
    message: 'Unknown {kind} plugin "{name}".',
  },
  ERPSTREAM_CONNECTOR_CLASS_UNKNOWN: {
    meaning: "connector.class names no installed connector (Connect's plugin lookup error; 400 as in Connect 4.x).",
    retriable: false,
    message: 'Failed to find any class that implements Connector and which name matches {name}',
  },
  ERPSTREAM_PLUGIN_CONFLICT: {
    meaning: 'Two installed plugins claim the same class name or alias.',
    retriable: false,
    message: 'Plugin name {name} is claimed by both {first} and {second}',
  },
  ERPSTREAM_PLUGIN_MISUSE: {
    meaning:
      'A plugin used a runtime service against its contract (e.g. a transactional writer outside transaction()): a bug in the plugin.',
    retriable: false,
    message: '{reason}',
  },
  ERPSTREAM_TOO_MANY_TASKS: {
    meaning:
      "A connector generated more task configs than tasks.max (Connect's check; tasks.max.enforce=false allows it).",
    retriable: false,
    message: 'The connector {name} has generated {count} tasks, which is greater than {max}',
  },
  // Requests to the worker (REST and the herders)
  ERPSTREAM_INVALID_REQUEST: {
    meaning:
      'A request is malformed or not allowed in the current state (e.g. altering offsets of a running connector).',
    retriable: false,
    message: 'Invalid request: {reason}',
  },
  ERPSTREAM_NOT_FOUND: {
    meaning: 'The connector, task, customer or operation named in the request does not exist.',
    retriable: false,
    message: 'Unknown {what}: {name}',
  },
  ERPSTREAM_ALREADY_EXISTS: {
    meaning: 'A connector with that name already exists.',
    retriable: false,
    message: 'Connector {name} already exists',
  },
  ERPSTREAM_REBALANCE_IN_PROGRESS: {
    meaning: 'The distributed worker group is rebalancing (or its leader is unreachable): retry the request shortly.',
    retriable: true,
    message: 'Cannot complete request because of a conflicting operation (e.g. worker rebalance)',
  },
  ERPSTREAM_LEADER_REFUSED: {
    meaning:
      "The group leader a request was forwarded to refused it; the answer keeps the leader's status and message.",
    retriable: false,
    message: 'The leader refused the request: {reason}',
  },
  ERPSTREAM_FEATURE_DISABLED: {
    meaning: 'The request needs a feature the worker config turns off (topic tracking, its reset).',
    retriable: false,
    message: '{feature} is disabled.',
  },
  ERPSTREAM_NOT_SUPPORTED: {
    meaning: 'The request is valid but this worker mode does not support it yet.',
    retriable: false,
    message: '{what} is not supported',
  },
  ERPSTREAM_WORKER_START: {
    meaning: 'The worker cannot start (config, Kafka, its internal topics); the message names the phase.',
    retriable: false,
    message: 'Worker start-up failed while {phase}: {reason}',
  },
  ERPSTREAM_TIMEOUT: {
    meaning: 'The worker gave up waiting for something it needs (reading an internal topic to its end).',
    retriable: false,
    message: 'Timed out after {ms} ms waiting for {what}',
  },
  // Task failures and their handling
  ERPSTREAM_RETRIABLE: {
    meaning: 'A transient failure (connection dropped, service busy): the runtime retries it.',
    retriable: true,
    message: 'Temporary failure: {reason}',
  },
  ERPSTREAM_TRANSFORM: {
    meaning: 'A transformation or predicate threw on a record; names the alias and class, and keeps the cause.',
    retriable: false,
    message: "Transform '{alias}' ({className}) failed: {reason}",
  },
  ERPSTREAM_TOLERANCE_EXCEEDED: {
    meaning: 'An error was not tolerated (errors.tolerance=none, or retries exhausted): the task fails.',
    retriable: false,
    message: 'Tolerance exceeded in error handler (stage {stage}): {reason}',
  },
  ERPSTREAM_STOPPED_WHILE_WAITING: {
    meaning: 'The task was stopped while it waited out an outage; nothing was committed and the batch is polled again.',
    retriable: false,
    message: 'Stopped while waiting for {what}',
  },
  ERPSTREAM_OUTAGE_TIMEOUT: {
    meaning: 'A task waited for an outage longer than outage.wait.timeout.ms and fails.',
    retriable: false,
    message: 'Gave up waiting for {what} after {seconds} s',
  },
  ERPSTREAM_OUTBOX_UPDATE: {
    meaning: "The outbox event router met an update or delete and route.invalid.operation.behavior is 'fatal'.",
    retriable: false,
    message: 'Unexpected update or delete on the outbox table, fail.',
  },
  // Kafka and the schema registry
  ERPSTREAM_KAFKA_UNAVAILABLE: {
    meaning: 'Kafka is unreachable or busy (broker down, leader moving, group rejoining): retried.',
    retriable: true,
    message: 'Kafka is not available: {reason}',
  },
  ERPSTREAM_KAFKA_REFUSED: {
    meaning: 'Kafka refused a request for a reason a retry does not fix (record too large, not authorised…).',
    retriable: false,
    message: 'Kafka refused the request: {reason}',
  },
  ERPSTREAM_KAFKA_BROKERS_MISSING: {
    meaning: 'No Kafka bootstrap servers were given.',
    retriable: false,
    message: 'no Kafka brokers given (expected host:port[,host:port...])',
  },
  ERPSTREAM_TOPIC_NOT_READY: {
    meaning: 'A topic has no partitions in the metadata yet (not created, or still propagating): retried.',
    retriable: true,
    message: 'Topic {topic} has no partitions in the metadata yet (does it exist?)',
  },
  ERPSTREAM_PARTITION_UNKNOWN: {
    meaning: 'A record names a partition the topic does not have.',
    retriable: false,
    message: 'Partition {partition} does not exist in topic {topic}',
  },
  ERPSTREAM_REGISTRY_UNREACHABLE: {
    meaning: 'The schema registry cannot be reached: retried.',
    retriable: true,
    message: 'Schema registry at {url} is unreachable',
  },
  ERPSTREAM_REGISTRY_UNAVAILABLE: {
    meaning: 'The schema registry answered with a server error or rate limit: retried.',
    retriable: true,
    message: 'Schema registry at {url} is unavailable',
  },
  ERPSTREAM_BREAKER_OPEN: {
    meaning: "A destination's circuit breaker is open after repeated failures: retried when it half-opens.",
    retriable: true,
    message: 'Circuit breaker for {name} is open',
  },
  // Operations (re-delivery, reconcile)
  ERPSTREAM_REDELIVERY_REFUSED: {
    meaning:
      "A connector refuses to re-deliver (its config makes it unsafe); the message carries the connector's own code.",
    retriable: false,
    message: 'Connector {connector}: {reason} ({code})',
  },
  ERPSTREAM_REDELIVERY_FAILED: {
    meaning: 'Queueing a re-delivery on a connector failed (its database or the worker could not do it).',
    retriable: false,
    message: 'Connector {connector}: {reason}',
  },
  // LookupSink's own codes
  LOOKUP_SINK_DELIVERY_FAILED: {
    meaning:
      'LookupSink could not deliver a batch to its destination; the task instance ends, and the worker starts it again from the committed offsets when the cause is an outage.',
    retriable: false,
    message: 'Delivering a batch to {destination} failed; the task restarts from the committed offsets: {reason}',
  },
  LOOKUP_SINK_REDELIVERY_UNSAFE: {
    meaning: "LookupSink refuses a re-delivery its config makes unsafe (tasks.max > 1 without the ledger's ownership).",
    retriable: false,
    message: '{reason}',
  },
  LOOKUP_SINK_QUERY_PARAMETER: {
    meaning: 'A lookup or dependency query names a :parameter that the origin row or the query does not provide.',
    retriable: false,
    message: '{query}: unknown parameter :{name}',
  },
  // Bugs
  ERPSTREAM_INTERNAL: {
    meaning: 'An internal invariant broke (a bug): report it with the log around it.',
    retriable: false,
    message: 'Internal error: {reason}',
  },
} as const satisfies Record<string, ErrorCodeSpec>;

export type ErrorCode = keyof typeof errorCatalog;

/** Codes whose errors the runtime retries (what RetriableError may carry). */
export type RetriableErrorCode = {
  [C in ErrorCode]: (typeof errorCatalog)[C]['retriable'] extends true ? C : never;
}[ErrorCode];

export const errorCodes = Object.keys(errorCatalog) as ErrorCode[];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(errorCatalog, value);
}

/** The catalog's message for a code, `{name}` filled from params (a missing param stays as `{name}`). */
export function formatErrorMessage(code: ErrorCode, params: Readonly<Record<string, unknown>> = {}): string {
  return errorCatalog[code].message.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.hasOwn(params, name) ? String(params[name]) : whole,
  );
}
