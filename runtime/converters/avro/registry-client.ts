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
}

export interface SubjectVersion {
  readonly id: number;
  readonly version: number;
  readonly schema: string;
}

const NETWORK_ERROR =
  /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|ENETUNREACH|socket hang up|timeout/i;

export class RegistryClient {
  /** The URL without credentials: the only form that appears in messages. */
  readonly safeUrl: string;
  private readonly api: ReturnType<ApiFactory>;

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
    this.api = factory({
      host: this.safeUrl,
      ...(auth ? { auth } : {}),
      retry: { retries: options.retries ?? 2 },
    });
  }

  /** Registers (or finds) the schema under the subject; returns its global id. */
  async register(subject: string, schema: string): Promise<number> {
    const r = await this.call(`register a schema under subject "${subject}"`, subject, () =>
      this.api.Subject.register({ subject, body: { schema } }),
    );
    return (r as { id: number }).id;
  }

  /** The id of this exact schema under the subject, or null when it is not registered there. */
  async lookup(subject: string, schema: string): Promise<SubjectVersion | null> {
    try {
      return (await this.call(`look up a schema under subject "${subject}"`, subject, () =>
        this.api.Subject.registered({ subject, body: { schema } }),
      )) as SubjectVersion;
    } catch (e) {
      if (e instanceof NotFound) return null;
      throw e;
    }
  }

  async latest(subject: string): Promise<SubjectVersion> {
    try {
      return (await this.call(`read the latest version of subject "${subject}"`, subject, () =>
        this.api.Subject.latestVersion({ subject }),
      )) as SubjectVersion;
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
      const r = (await this.call(`read schema id ${id}`, undefined, () => this.api.Schema.find({ id }))) as {
        schema: string;
        schemaType?: string;
      };
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

  private async call(what: string, subject: string | undefined, fn: () => Promise<ApiResponse>): Promise<unknown> {
    let response: ApiResponse;
    try {
      response = await fn();
    } catch (e) {
      throw this.translate(e, what, subject);
    }
    return response.data();
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
