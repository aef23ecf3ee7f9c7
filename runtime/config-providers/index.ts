import { readFile, readdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../api/index.js';
import { parseProperties } from './properties.js';

/**
 * Config providers (KIP-297): `${provider:[path:]key}` placeholders in connector configs, resolved only
 * when configs are handed to connectors and tasks. Stored configs and REST responses keep the placeholders.
 */
export interface ConfigProvider {
  configure(params: Record<string, string>): void;
  /** Values for these keys at `path`; keys that do not exist are absent from the result. */
  get(path: string, keys: readonly string[]): Promise<Record<string, string>>;
  /** Why `key` at `path` has no value, completing "`${…}` …" (never the value of anything). */
  describeMissing?(path: string, key: string): string;
}

/** A placeholder the worker could not resolve, and why, in words an operator can act on. */
export interface PlaceholderProblem {
  /** The config key whose value holds it. */
  key: string;
  placeholder: string;
  message: string;
}

/** Connect's ConfigTransformer.DEFAULT_PATTERN. */
export const PLACEHOLDER = /\$\{([^}]*?):(([^}]*?):)?([^}]*?)\}/g;

export function hasPlaceholder(value: string): boolean {
  return new RegExp(PLACEHOLDER.source).test(value);
}

function allowedPathsOf(params: Record<string, string>): string[] | null {
  const raw = params['allowed.paths'];
  if (raw === undefined || raw.trim() === '') return null;
  return raw.split(',').map((p) => path.resolve(p.trim()));
}

async function checkAllowed(allowed: string[] | null, file: string): Promise<string> {
  const resolved = path.resolve(file);
  if (allowed === null) return resolved;
  let real = resolved;
  try {
    real = await realpath(resolved);
  } catch {
    // A missing file is reported by the read; symlink escapes are what realpath guards against.
  }
  if (!allowed.some((a) => real === a || real.startsWith(a + path.sep))) {
    throw new ConfigError(`The path ${file} is not allowed to be accessed (allowed.paths=${allowed.join(',')})`);
  }
  return resolved;
}

/** `${env:VAR}` (Kafka's EnvVarConfigProvider, `allowlist.pattern`). */
export class EnvVarConfigProvider implements ConfigProvider {
  private allow: RegExp | null = null;
  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}
  configure(params: Record<string, string>): void {
    const p = params['allowlist.pattern'];
    this.allow = p ? new RegExp(`^(?:${p})$`) : null;
  }
  async get(_path: string, keys: readonly string[]): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const k of keys) {
      if (this.allow && !this.allow.test(k)) continue;
      const v = this.env[k];
      if (v !== undefined) out[k] = v;
    }
    return out;
  }
  describeMissing(_path: string, key: string): string {
    return this.allow && !this.allow.test(key)
      ? `is not allowed by the env provider's allowlist.pattern (${this.allow.source.slice(4, -2)})`
      : "is not set in the worker's environment";
  }
}

/** `${file:/path/to/file.properties:key}` (Kafka's FileConfigProvider). */
export class FileConfigProvider implements ConfigProvider {
  private allowed: string[] | null = null;
  configure(params: Record<string, string>): void {
    this.allowed = allowedPathsOf(params);
  }
  async get(file: string, keys: readonly string[]): Promise<Record<string, string>> {
    const resolved = await checkAllowed(this.allowed, file);
    let text: string;
    try {
      text = await readFile(resolved, 'utf8');
    } catch (e) {
      throw new ConfigError(`Could not read properties from file ${file}: ${(e as Error).message}`);
    }
    const props = parseProperties(text);
    const out: Record<string, string> = {};
    for (const k of keys) if (Object.hasOwn(props, k)) out[k] = props[k]!;
    return out;
  }
  describeMissing(file: string, key: string): string {
    return `names a key "${key}" that ${file} does not have`;
  }
}

/** `${directory:/run/secrets:db_password}`: the content of one file per key (Kafka's DirectoryConfigProvider). */
export class DirectoryConfigProvider implements ConfigProvider {
  private allowed: string[] | null = null;
  configure(params: Record<string, string>): void {
    this.allowed = allowedPathsOf(params);
  }
  async get(dir: string, keys: readonly string[]): Promise<Record<string, string>> {
    const resolved = await checkAllowed(this.allowed, dir);
    const names = new Set(await readdir(resolved).catch(() => [] as string[]));
    const out: Record<string, string> = {};
    for (const k of keys) {
      // Keys are file names in that directory, never paths: no escaping it with "../".
      if (!names.has(k) || k.includes('/') || k.includes(path.sep)) continue;
      out[k] = await readFile(path.join(resolved, k), 'utf8');
    }
    return out;
  }
  describeMissing(dir: string, key: string): string {
    return `names a file "${key}" that directory ${dir} does not have`;
  }
}

const PROVIDER_CLASSES: Record<string, () => ConfigProvider> = {
  'org.apache.kafka.common.config.provider.FileConfigProvider': () => new FileConfigProvider(),
  FileConfigProvider: () => new FileConfigProvider(),
  'org.apache.kafka.common.config.provider.DirectoryConfigProvider': () => new DirectoryConfigProvider(),
  DirectoryConfigProvider: () => new DirectoryConfigProvider(),
  'org.apache.kafka.common.config.provider.EnvVarConfigProvider': () => new EnvVarConfigProvider(),
  EnvVarConfigProvider: () => new EnvVarConfigProvider(),
};

/** The providers every worker has unless `config.providers` says otherwise. */
export function defaultConfigProviders(): Map<string, ConfigProvider> {
  return new Map<string, ConfigProvider>([
    ['env', new EnvVarConfigProvider()],
    ['file', new FileConfigProvider()],
    ['directory', new DirectoryConfigProvider()],
  ]);
}

/**
 * Providers from worker config (`config.providers=file,env`, `config.providers.<n>.class`,
 * `config.providers.<n>.param.<k>`). With no `config.providers` key, env/file/directory are available
 * (erpstream's default; Connect has none unless configured).
 */
export function configProvidersFromWorkerConfig(props: Readonly<Record<string, string>>): Map<string, ConfigProvider> {
  const list = props['config.providers'];
  if (list === undefined) return defaultConfigProviders();
  const out = new Map<string, ConfigProvider>();
  for (const name of list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const cls = props[`config.providers.${name}.class`];
    if (cls === undefined) throw ConfigError.missing(`config.providers.${name}.class`);
    const make = PROVIDER_CLASSES[cls.trim()];
    if (!make) {
      throw ConfigError.invalid(
        `config.providers.${name}.class`,
        cls,
        `Unknown config provider class. Known: ${Object.keys(PROVIDER_CLASSES).join(', ')}`,
      );
    }
    const provider = make();
    const prefix = `config.providers.${name}.param.`;
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(props)) if (k.startsWith(prefix)) params[k.slice(prefix.length)] = v;
    provider.configure(params);
    out.set(name, provider);
  }
  return out;
}

/**
 * Resolves placeholders (Connect's ConfigTransformer). Like Connect, a placeholder naming an unknown
 * provider or a missing key is left as it is; `unresolved` lists them so the caller can warn.
 */
export class ConfigTransformer {
  constructor(private readonly providers: ReadonlyMap<string, ConfigProvider>) {}

  async transform(configs: Readonly<Record<string, string>>): Promise<{
    data: Record<string, string>;
    unresolved: string[];
    /** Each unresolved placeholder with the reason, for validation and start-up errors. */
    problems: PlaceholderProblem[];
  }> {
    const wanted = new Map<string, Map<string, Set<string>>>(); // provider → path → keys
    for (const v of Object.values(configs)) {
      for (const m of v.matchAll(PLACEHOLDER)) {
        const [, provider, , p = '', key] = m;
        const byPath = wanted.get(provider!) ?? new Map<string, Set<string>>();
        wanted.set(provider!, byPath);
        const keys = byPath.get(p) ?? new Set<string>();
        byPath.set(p, keys);
        keys.add(key!);
      }
    }
    const resolved = new Map<string, string>(); // `${provider}\0${path}\0${key}` → value
    const failed = new Map<string, string>(); // `${provider}\0${path}` → why the provider could not read it
    for (const [providerName, byPath] of wanted) {
      const provider = this.providers.get(providerName);
      if (!provider) continue;
      for (const [p, keys] of byPath) {
        try {
          const data = await provider.get(p, [...keys]);
          for (const [k, v] of Object.entries(data)) resolved.set(`${providerName}\0${p}\0${k}`, v);
        } catch (e) {
          // Reported per placeholder below; the other placeholders still resolve.
          failed.set(`${providerName}\0${p}`, (e as Error).message);
        }
      }
    }
    const unresolved: string[] = [];
    const problems: PlaceholderProblem[] = [];
    const data: Record<string, string> = {};
    for (const [name, v] of Object.entries(configs)) {
      data[name] = v.replace(PLACEHOLDER, (whole, provider: string, _g2, p: string | undefined, key: string) => {
        const value = resolved.get(`${provider}\0${p ?? ''}\0${key}`);
        if (value === undefined) {
          unresolved.push(`${name}=${whole}`);
          problems.push({
            key: name,
            placeholder: whole,
            message: this.whyMissing(whole, provider, p ?? '', key, failed),
          });
          return whole;
        }
        return value;
      });
    }
    return { data, unresolved, problems };
  }

  private whyMissing(whole: string, providerName: string, p: string, key: string, failed: Map<string, string>): string {
    const provider = this.providers.get(providerName);
    if (!provider) {
      const known = [...this.providers.keys()].join(', ') || 'none';
      return `\`${whole}\` names config provider "${providerName}", which the worker does not have (config.providers: ${known})`;
    }
    const failure = failed.get(`${providerName}\0${p}`);
    if (failure !== undefined) return `\`${whole}\` could not be resolved: ${failure}`;
    return `\`${whole}\` ${provider.describeMissing?.(p, key) ?? 'has no value on the worker'}`;
  }
}

/**
 * Connect's AbstractHerder.reverseTransform: task config values that came from a `${…}` connector
 * config value are put back as the placeholder, so secrets never reach stored task configs or REST.
 */
export function reverseTransform(
  rawConnectorConfig: Readonly<Record<string, string>>,
  resolvedConnectorConfig: Readonly<Record<string, string>>,
  taskConfig: Readonly<Record<string, string>>,
): Record<string, string> {
  const out: Record<string, string> = { ...taskConfig };
  for (const [k, raw] of Object.entries(rawConnectorConfig)) {
    if (k in out && hasPlaceholder(raw) && out[k] === resolvedConnectorConfig[k]) out[k] = raw;
  }
  return out;
}
