import { Password, type Logger, isPlaceholderOnly, isSecretKey } from '../api/index.js';

/**
 * Structured JSON logs (one object per line) with connector/task context, and a level registry that
 * /admin/loggers reads and changes live. Level names are log4j's, because Connect tooling sends them.
 */
export const LOG_LEVELS = ['OFF', 'FATAL', 'ERROR', 'WARN', 'INFO', 'DEBUG', 'TRACE'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const SEVERITY: Record<LogLevel, number> = { OFF: 0, FATAL: 1, ERROR: 2, WARN: 3, INFO: 4, DEBUG: 5, TRACE: 6 };

export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value.toUpperCase());
}

export interface LoggerLevel {
  level: LogLevel;
  last_modified: number | null;
}

/** Named loggers form a dot-separated hierarchy; a logger without its own level inherits its parent's. */
export class LogLevelRegistry {
  private readonly levels = new Map<string, LoggerLevel>();

  constructor(rootLevel: LogLevel = 'INFO') {
    this.levels.set('root', { level: rootLevel, last_modified: null });
  }

  /** Loggers with an explicitly set level, sorted by name (Connect returns a TreeMap). */
  explicit(): Record<string, LoggerLevel> {
    const out: Record<string, LoggerLevel> = {};
    for (const name of [...this.levels.keys()].sort()) out[name] = { ...this.levels.get(name)! };
    return out;
  }

  get(name: string): LoggerLevel | undefined {
    const l = this.levels.get(name);
    return l ? { ...l } : undefined;
  }

  effective(name: string): LogLevel {
    for (let n = name; n !== ''; n = n.includes('.') ? n.slice(0, n.lastIndexOf('.')) : '') {
      const l = this.levels.get(n);
      if (l) return l.level;
    }
    return this.levels.get('root')!.level;
  }

  /** Sets a level on the logger and every known descendant; returns the affected names (sorted). */
  set(name: string, level: LogLevel, now = Date.now()): string[] {
    const upper = level.toUpperCase() as LogLevel;
    const affected = name === 'root' ? [...this.levels.keys()] : [name];
    if (name !== 'root') {
      for (const n of this.levels.keys()) if (n.startsWith(`${name}.`)) affected.push(n);
    }
    for (const n of affected) this.levels.set(n, { level: upper, last_modified: now });
    return [...new Set(affected)].sort();
  }

  enabled(name: string, level: LogLevel): boolean {
    return SEVERITY[level] <= SEVERITY[this.effective(name)] && level !== 'OFF';
  }
}

export type LogSink = (line: string) => void;

export const stderrSink: LogSink = (line) => {
  process.stderr.write(`${line}\n`);
};

/** Makes a value safe to log: Passwords and secret-named fields hidden, errors flattened, bigints as strings. */
export function redact(value: unknown, key = '', depth = 0): unknown {
  if (value instanceof Password) return Password.HIDDEN;
  if (key !== '' && isSecretKey(key) && value !== null && value !== undefined && value !== '') {
    // A `${provider:…}` placeholder is not the secret itself and helps debugging.
    return typeof value === 'string' && isPlaceholderOnly(value) ? value : Password.HIDDEN;
  }
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) {
    return { class: value.name, message: value.message, ...(value.stack ? { stack: value.stack } : {}) };
  }
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `<${value.length} bytes>`;
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, '', depth + 1));
  if (value instanceof Map) return redact(Object.fromEntries(value), key, depth + 1);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = redact(v, k, depth + 1);
  return out;
}

export interface JsonLoggerOptions {
  name: string;
  registry: LogLevelRegistry;
  sink?: LogSink;
  context?: Record<string, unknown>;
  now?: () => Date;
}

/** The runtime's implementation of the plugin API Logger. */
export class JsonLogger implements Logger {
  readonly name: string;
  private readonly registry: LogLevelRegistry;
  private readonly sink: LogSink;
  private readonly context: Record<string, unknown>;
  private readonly now: () => Date;

  constructor(options: JsonLoggerOptions) {
    this.name = options.name;
    this.registry = options.registry;
    this.sink = options.sink ?? stderrSink;
    this.context = options.context ?? {};
    this.now = options.now ?? (() => new Date());
  }

  private write(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (!this.registry.enabled(this.name, level)) return;
    const entry = {
      ts: this.now().toISOString(),
      level,
      logger: this.name,
      msg,
      ...(redact({ ...this.context, ...fields }) as Record<string, unknown>),
    };
    let line: string;
    try {
      line = JSON.stringify(entry);
    } catch {
      line = JSON.stringify({ ts: entry.ts, level, logger: this.name, msg });
    }
    this.sink(line);
  }

  trace(msg: string, fields?: Record<string, unknown>): void {
    this.write('TRACE', msg, fields);
  }
  debug(msg: string, fields?: Record<string, unknown>): void {
    this.write('DEBUG', msg, fields);
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    this.write('INFO', msg, fields);
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.write('WARN', msg, fields);
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    this.write('ERROR', msg, fields);
  }

  /** Same logger name, more context (connector, task). */
  child(context: Record<string, unknown>): JsonLogger {
    return new JsonLogger({
      name: this.name,
      registry: this.registry,
      sink: this.sink,
      context: { ...this.context, ...context },
      now: this.now,
    });
  }

  /** A logger with another name and the same context, sink and registry. */
  named(name: string): JsonLogger {
    return new JsonLogger({ name, registry: this.registry, sink: this.sink, context: this.context, now: this.now });
  }
}
