import createApi from '@kafkajs/confluent-schema-registry/dist/api/index.js';
import { DataError, RetriableError, SchemaError, ConfigError } from '../../api/index.js';

/**
 * The few Confluent Schema Registry calls a converter needs, over @kafkajs/confluent-schema-registry's
 * HTTP client. We do not use its high-level `register`: it reads and *changes* each subject's
 * compatibility setting, which a serializer must never do.
 *
 * Errors are ours and never carry credentials: unreachable → RetriableError naming the URL;
 * incompatible (409) → SchemaError with the registry's message and the subject.
 */

type ApiFactory = (args: {
  host: string;
  auth?: { username: string; password: string };
  retry?: { retries?: number };
}) => {
  Schema: { find(p: unknown): Promise<ApiResponse> };
  Subject: {
    register(p: unknown): Promise<ApiResponse>;
    registered(p: unknown): Promise<ApiResponse>;
    latestVersion(p: unknown): Promise<ApiResponse>;
  };
};
interface ApiResponse {
  data(): unknown;
}

// The package is CommonJS: its default export arrives as `.default` of the module object.
const factory = ((createApi as unknown as { default?: ApiFactory }).default ?? createApi) as unknown as ApiFactory;

export interface RegistryOptions {
  /** Base URL, e.g. http://127.0.0.1:8081/apis/ccompat/v7; user info in it is used as credentials. */
  readonly url: string;
  /** "user:password" (basic.auth.user.info). */
  readonly userInfo?: string;
  readonly retries?: number;
  /**
   * The most one call may take, the client's own retries included (and each HTTP attempt); past it the registry
   * counts as unreachable (RetriableError). Without it a registry that accepts the connection and never answers (or
   * drops it after the headers) left the call, and every record waiting on the same schema, pending forever.
   */
  readonly timeoutMs?: number;
}

export interface SubjectVersion {
  readonly id: number;
  readonly version: number;
  readonly schema: string;
}

// "Parse Error": what answered is not HTTP (a proxy or another service restarting on the port); not the registry's
// answer about a schema, so never a final one.
const NETWORK_ERROR =
  /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|ENETUNREACH|EPIPE|socket hang up|timeout|Parse Error/i;

const DEFAULT_TIMEOUT_MS = 30_000;

export class RegistryClient {
  /** The URL without credentials: the only form that appears in messages. */
  readonly safeUrl: string;
  private readonly api: ReturnType<ApiFactory>;
  private readonly timeoutMs: number;

  constructor(options: RegistryOptions) {
    let parsed: URL;
    try {
      parsed = new URL(options.url);
    } catch {
      throw ConfigError.invalid('schema.registry.url', options.url.replace(/\/\/[^@/]*@/, '//'), 'not a valid URL');
    }
    let auth: { username: string; password: string } | undefined;
    if (parsed.username) {
      auth = { username: decodeURIComponent(parsed.username), password: decodeURIComponent(parsed.password) };
      parsed.username = '';
      parsed.password = '';
    }
    if (options.userInfo) {
      const i = options.userInfo.indexOf(':');
      auth =
        i < 0
          ? { username: options.userInfo, password: '' }
          : { username: options.userInfo.slice(0, i), password: options.userInfo.slice(i + 1) };
    }
    this.safeUrl = parsed.toString().replace(/\/$/, '');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.api = factory({
      host: this.safeUrl,
      ...(auth ? { auth } : {}),
      retry: { retries: options.retries ?? 2 },
    });
  }

  /** Registers (or finds) the schema under the subject; returns its global id. */
  async register(subject: string, schema: string): Promise<number> {
    const what = `register a schema under subject "${subject}"`;
    const r = await this.call(what, subject, (timeout) =>
      this.api.Subject.register({ subject, body: { schema }, timeout }),
    );
    return this.checked<{ id: number }>(what, r, ['id']).id;
  }

  /** The id of this exact schema under the subject, or null when it is not registered there. */
  async lookup(subject: string, schema: string): Promise<SubjectVersion | null> {
    try {
      const what = `look up a schema under subject "${subject}"`;
      const r = await this.call(what, subject, (timeout) =>
        this.api.Subject.registered({ subject, body: { schema }, timeout }),
      );
      return this.checked<SubjectVersion>(what, r, ['id']);
    } catch (e) {
      if (e instanceof NotFound) return null;
      throw e;
    }
  }

  async latest(subject: string): Promise<SubjectVersion> {
    try {
      const what = `read the latest version of subject "${subject}"`;
      const r = await this.call(what, subject, (timeout) => this.api.Subject.latestVersion({ subject, timeout }));
      return this.checked<SubjectVersion>(what, r, ['id', 'schema']);
    } catch (e) {
      if (e instanceof NotFound) {
        throw new DataError(
          `Subject "${subject}" has no schema in the registry at ${this.safeUrl} (use.latest.version=true needs one)`,
        );
      }
      throw e;
    }
  }

  async schemaById(id: number): Promise<string> {
    try {
      const what = `read schema id ${id}`;
      const r = this.checked<{ schema: string; schemaType?: string }>(
        what,
        await this.call(what, undefined, (timeout) => this.api.Schema.find({ id, timeout })),
        ['schema'],
      );
      if (r.schemaType !== undefined && r.schemaType !== 'AVRO') {
        throw new DataError(`Schema id ${id} is a ${r.schemaType} schema, not Avro`);
      }
      return r.schema;
    } catch (e) {
      if (e instanceof NotFound)
        throw new DataError(
          `Schema id ${id} was not found in the registry at ${this.safeUrl}: the record was written with another ` +
            'registry (point schema.registry.url at the one its producer uses) or its schema was deleted',
        );
      throw e;
    }
  }

  private async call(
    what: string,
    subject: string | undefined,
    fn: (timeoutMs: number) => Promise<ApiResponse>,
  ): Promise<unknown> {
    let response: ApiResponse;
    let timer: NodeJS.Timeout | undefined;
    // Each HTTP attempt is aborted after timeoutMs (a silent socket); the deadline also ends a call whose attempt never
    // settles (the connection dropped after the response headers: the HTTP client waits for the body forever).
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        // Not shown as is: translate() turns it into the registry-unavailable RetriableError (its text says timeout).
        () => reject(Object.assign(new Error(`timeout: no answer within ${this.timeoutMs} ms`), { status: undefined })),
        this.timeoutMs,
      );
    });
    try {
      response = await Promise.race([fn(this.timeoutMs), deadline]);
    } catch (e) {
      throw this.translate(e, what, subject);
    } finally {
      clearTimeout(timer);
    }
    return response.data();
  }

  /**
   * The registry's answer, when it is a JSON object with these fields (ids positive integers, schemas text). Anything
   * else (a proxy's page with status 200, a truncated body) is no answer about the schema: retriable, never a schema
   * id taken from nothing (a missing id was written as id 0).
   */
  private checked<T>(what: string, data: unknown, fields: readonly ('id' | 'schema')[]): T {
    const r = data as Record<string, unknown> | null;
    const ok =
      typeof r === 'object' &&
      r !== null &&
      fields.every((f) =>
        f === 'id' ? Number.isSafeInteger(r.id) && (r.id as number) > 0 : typeof r.schema === 'string',
      );
    if (ok) return r as T;
    const shown = (typeof data === 'string' ? data : (JSON.stringify(data) ?? String(data))).slice(0, 200);
    throw new RetriableError(
      `Schema registry at ${this.safeUrl} gave no usable answer when asked to ${what} (expected ${fields.join(' and ')}): ${shown}`,
      { code: 'ERPSTREAM_REGISTRY_UNAVAILABLE' },
    );
  }

  private translate(e: unknown, what: string, subject: string | undefined): Error {
    const status = (e as { status?: number }).status;
    const raw = e instanceof Error ? e.message : String(e);
    // Strip the client's prefix and any URL it appended; keep the registry's own message.
    const message = raw.replace(/^[^-]*- /, '').replace(/\s+(get|post|put|delete) https?:\/\/\S+$/i, '');
    const on = subject ? ` (subject "${subject}")` : '';
    if (status === undefined || (status === 400 && NETWORK_ERROR.test(raw))) {
      // The HTTP client reports network failures as "status 400"; only the socket error means anything.
      const cause = message.replace(/^Error, status 400: /, '');
      return new RetriableError(`Schema registry at ${this.safeUrl} is unreachable: could not ${what}: ${cause}`, {
        code: 'ERPSTREAM_REGISTRY_UNREACHABLE',
      });
    }
    if (status === 404) return new NotFound(message);
    if (status === 409) {
      return new SchemaError(`Schema being registered is incompatible with an earlier schema${on}: ${message}`);
    }
    if (status === 422) return new SchemaError(`The registry rejected the schema as invalid${on}: ${message}`);
    if (status === 401 || status === 403) {
      return new ConfigError(
        `Schema registry at ${this.safeUrl} refused the credentials (HTTP ${status}) when trying to ${what}; check basic.auth.user.info`,
        'basic.auth.user.info',
      );
    }
    if (status >= 500 || status === 408 || status === 429) {
      return new RetriableError(
        `Schema registry at ${this.safeUrl} failed to ${what}${on}: HTTP ${status}: ${message}`,
        {
          code: 'ERPSTREAM_REGISTRY_UNAVAILABLE',
        },
      );
    }
    return new DataError(`Schema registry at ${this.safeUrl} could not ${what}${on}: HTTP ${status}: ${message}`);
  }
}

class NotFound extends Error {}
