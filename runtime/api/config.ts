import { ConfigError } from './errors.js';

/**
 * A plugin declares its config spec once, as a ConfigDef. Parsing, REST validation (Connect's
 * ConfigInfos), `plugins describe`, generated docs and JSON Schema all derive from it.
 */
export type ConfigType = 'BOOLEAN' | 'STRING' | 'INT' | 'SHORT' | 'LONG' | 'DOUBLE' | 'LIST' | 'CLASS' | 'PASSWORD';
export type Importance = 'HIGH' | 'MEDIUM' | 'LOW';
export type Width = 'NONE' | 'SHORT' | 'MEDIUM' | 'LONG';

/** A secret: its value is never printed (toString, JSON, logs, REST all show "[hidden]"). */
export class Password {
  static readonly HIDDEN = '[hidden]';
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  value(): string {
    return this.#value;
  }
  toString(): string {
    return Password.HIDDEN;
  }
  toJSON(): string {
    return Password.HIDDEN;
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return Password.HIDDEN;
  }
}

export interface Validator {
  /** Throws ConfigError (via ConfigError.invalid) when the parsed value is not acceptable. */
  ensureValid(name: string, value: unknown): void;
  /** Shown in docs, e.g. "[1,...]" or "[initial, never]". */
  describe(): string;
}

export interface Recommender {
  validValues(name: string, parsed: Readonly<Record<string, unknown>>): unknown[];
  visible(name: string, parsed: Readonly<Record<string, unknown>>): boolean;
}

/** Marks a key with no default: it must be given. */
export const NO_DEFAULT: unique symbol = Symbol('NO_DEFAULT');

export interface ConfigKey {
  readonly name: string;
  readonly type: ConfigType;
  /** NO_DEFAULT when required; otherwise the default in its parsed or string form. */
  readonly defaultValue: unknown;
  readonly importance: Importance;
  readonly documentation: string;
  readonly group?: string;
  readonly orderInGroup?: number;
  readonly width: Width;
  readonly displayName: string;
  readonly dependents: readonly string[];
  readonly validator?: Validator;
  readonly recommender?: Recommender;
  /** Deprecated names that still set this key (e.g. ReplaceField's `blacklist`). */
  readonly aliases?: readonly string[];
  /** For docs: an example value. */
  readonly example?: string;
}

export type ConfigKeyInput = Omit<ConfigKey, 'defaultValue' | 'width' | 'displayName' | 'dependents'> & {
  defaultValue?: unknown;
  width?: Width;
  displayName?: string;
  dependents?: readonly string[];
};

export type RawConfig = Readonly<Record<string, string | number | boolean | null | undefined | readonly string[]>>;

/** What a ConfigDef.parse returns: typed getters that name the key in every error. */
export class ParsedConfig {
  readonly values: Readonly<Record<string, unknown>>;
  /** Keys given that the spec does not define (kept: connectors and transforms pass them on). */
  readonly originals: RawConfig;

  constructor(values: Record<string, unknown>, originals: RawConfig) {
    this.values = values;
    this.originals = originals;
  }

  get(name: string): unknown {
    if (!(name in this.values)) throw new ConfigError(`Unknown configuration '${name}'`, name);
    return this.values[name];
  }
  string(name: string): string {
    return this.get(name) as string;
  }
  stringOrNull(name: string): string | null {
    const v = this.get(name);
    return v === null || v === undefined ? null : (v as string);
  }
  int(name: string): number {
    return this.get(name) as number;
  }
  intOrNull(name: string): number | null {
    const v = this.get(name);
    return v === null || v === undefined ? null : (v as number);
  }
  bool(name: string): boolean {
    return this.get(name) as boolean;
  }
  list(name: string): string[] {
    return (this.get(name) as string[] | null) ?? [];
  }
  password(name: string): Password | null {
    return (this.get(name) as Password | null) ?? null;
  }
  /** Originals that start with the prefix, prefix stripped (Connect's originalsWithPrefix). */
  withPrefix(prefix: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.originals)) {
      if (k.startsWith(prefix) && v !== undefined && v !== null) out[k.slice(prefix.length)] = String(v);
    }
    return out;
  }
}

/** One config value's validation result (Connect's ConfigValue). */
export interface ConfigValueResult {
  name: string;
  value: unknown;
  recommendedValues: unknown[];
  errors: string[];
  visible: boolean;
}

/** Connect's ConfigInfos (PUT /connector-plugins/{p}/config/validate). */
export interface ConfigInfos {
  name: string;
  error_count: number;
  groups: string[];
  configs: ConfigInfo[];
}
export interface ConfigInfo {
  definition: ConfigKeyInfo | null;
  value: ConfigValueInfo;
}
export interface ConfigKeyInfo {
  name: string;
  type: ConfigType;
  required: boolean;
  default_value: string | null;
  importance: Importance;
  documentation: string;
  group: string | null;
  /** Connect 4.x's name (3.9 said `order`). */
  order_in_group: number;
  width: Width;
  display_name: string;
  dependents: string[];
}
export interface ConfigValueInfo {
  name: string;
  value: string | null;
  recommended_values: string[];
  errors: string[];
  visible: boolean;
}

function displayNameOf(name: string): string {
  const words = name.split(/[._]/).filter(Boolean);
  const text = words.join(' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export class ConfigDef {
  private readonly keys = new Map<string, ConfigKey>();
  private readonly groupOrder: string[] = [];

  /** Defines a key. Order within group defaults to definition order. */
  define(input: ConfigKeyInput): this {
    if (this.keys.has(input.name)) throw new ConfigError(`Configuration ${input.name} is defined twice.`, input.name);
    const group = input.group;
    if (group !== undefined && !this.groupOrder.includes(group)) this.groupOrder.push(group);
    const orderInGroup =
      input.orderInGroup ??
      (group === undefined ? -1 : [...this.keys.values()].filter((k) => k.group === group).length + 1);
    const key: ConfigKey = {
      ...input,
      defaultValue: 'defaultValue' in input ? input.defaultValue : NO_DEFAULT,
      width: input.width ?? 'NONE',
      displayName: input.displayName ?? displayNameOf(input.name),
      dependents: input.dependents ?? [],
      orderInGroup,
    };
    if (key.defaultValue !== NO_DEFAULT && key.defaultValue !== null) {
      // A default must itself be valid: fail at definition time, not at a user's first record.
      const parsed = parseValue(key, key.defaultValue);
      key.validator?.ensureValid(key.name, parsed);
    }
    this.keys.set(key.name, key);
    return this;
  }

  /** Merges another def's keys (e.g. the common connector keys plus a connector's own). */
  include(other: ConfigDef): this {
    for (const k of other.configKeys()) {
      if (!this.keys.has(k.name)) {
        this.keys.set(k.name, k);
        if (k.group !== undefined && !this.groupOrder.includes(k.group)) this.groupOrder.push(k.group);
      }
    }
    return this;
  }

  configKeys(): ConfigKey[] {
    return [...this.keys.values()];
  }

  key(name: string): ConfigKey | undefined {
    return this.keys.get(name);
  }

  groups(): string[] {
    return [...this.groupOrder];
  }

  names(): string[] {
    return [...this.keys.keys()];
  }

  private resolveRaw(props: RawConfig, key: ConfigKey): { given: boolean; raw: unknown } {
    if (Object.hasOwn(props, key.name) && props[key.name] !== undefined) return { given: true, raw: props[key.name] };
    for (const alias of key.aliases ?? []) {
      if (Object.hasOwn(props, alias) && props[alias] !== undefined) return { given: true, raw: props[alias] };
    }
    return { given: false, raw: undefined };
  }

  /** Parses and validates; throws ConfigError naming the first bad key and its value. */
  parse(props: RawConfig): ParsedConfig {
    const values: Record<string, unknown> = {};
    for (const key of this.keys.values()) {
      const { given, raw } = this.resolveRaw(props, key);
      if (!given) {
        if (key.defaultValue === NO_DEFAULT) throw ConfigError.missing(key.name);
        values[key.name] = key.defaultValue === null ? null : parseValue(key, key.defaultValue);
      } else {
        values[key.name] = raw === null ? null : parseValue(key, raw);
      }
      if (values[key.name] !== null || given) key.validator?.ensureValid(key.name, values[key.name]);
    }
    return new ParsedConfig(values, props);
  }

  /** Validates every key and collects all errors (REST validate). Never throws for bad values. */
  validateAll(props: RawConfig): Map<string, ConfigValueResult> {
    const results = new Map<string, ConfigValueResult>();
    const parsed: Record<string, unknown> = {};
    for (const key of this.keys.values()) {
      const { given, raw } = this.resolveRaw(props, key);
      const result: ConfigValueResult = {
        name: key.name,
        value: raw,
        recommendedValues: [],
        errors: [],
        visible: true,
      };
      try {
        if (given && raw === null) {
          // As Connect's ConfigDef: a null is a null value, checked by the key's validator (if any). Whether a
          // null may be supplied at all is the framework's rule (runtime/worker/validation.ts).
          parsed[key.name] = null;
          result.value = null;
          key.validator?.ensureValid(key.name, null);
        } else if (!given) {
          if (key.defaultValue === NO_DEFAULT) {
            result.errors.push(`Missing required configuration "${key.name}" which has no default value.`);
          } else {
            parsed[key.name] = key.defaultValue === null ? null : parseValue(key, key.defaultValue);
            result.value = parsed[key.name];
          }
        } else {
          try {
            parsed[key.name] = parseValue(key, raw);
          } catch (e) {
            // Connect shows an unparsable value as null and still runs the validator on it, so a ranged key
            // reports both errors ("Not a number…", "Value must be non-null"): the same error count.
            result.errors.push(e instanceof Error ? e.message : String(e));
            parsed[key.name] = null;
          }
          result.value = parsed[key.name];
          key.validator?.ensureValid(key.name, parsed[key.name]);
        }
      } catch (e) {
        result.errors.push(e instanceof Error ? e.message : String(e));
      }
      results.set(key.name, result);
    }
    for (const key of this.keys.values()) {
      const r = results.get(key.name)!;
      if (key.recommender) {
        try {
          r.recommendedValues = key.recommender.validValues(key.name, parsed);
          r.visible = key.recommender.visible(key.name, parsed);
        } catch (e) {
          r.errors.push(e instanceof Error ? e.message : String(e));
        }
      }
    }
    return results;
  }

  /** Connect's ConfigInfos for these props; extra results (from a connector's own validate) are merged. */
  toConfigInfos(name: string, props: RawConfig, extra: ConfigValueResult[] = []): ConfigInfos {
    const results = this.validateAll(props);
    for (const e of extra) {
      const existing = results.get(e.name);
      // A connector's validate() often repeats what the ConfigDef found (a missing key): list each error once.
      if (existing) existing.errors.push(...e.errors.filter((m) => !existing.errors.includes(m)));
      else results.set(e.name, { ...e, errors: [...new Set(e.errors)] });
    }
    const configs: ConfigInfo[] = [];
    let errorCount = 0;
    for (const [keyName, result] of results) {
      const key = this.keys.get(keyName);
      errorCount += result.errors.length;
      configs.push({
        definition: key ? configKeyInfo(key) : null,
        value: {
          name: result.name,
          value: renderValue(key?.type, result.value),
          recommended_values: result.recommendedValues.map((v) => renderValue(undefined, v) ?? ''),
          errors: result.errors,
          visible: result.visible,
        },
      });
    }
    return { name, error_count: errorCount, groups: this.groups(), configs };
  }
}

export function configKeyInfo(key: ConfigKey): ConfigKeyInfo {
  return {
    name: key.name,
    type: key.type,
    required: key.defaultValue === NO_DEFAULT,
    default_value:
      key.defaultValue === NO_DEFAULT || key.defaultValue === null || key.defaultValue === undefined
        ? null
        : renderValue(key.type, key.defaultValue),
    importance: key.importance,
    documentation: key.documentation,
    group: key.group ?? null,
    order_in_group: key.orderInGroup ?? -1,
    width: key.width,
    display_name: key.displayName,
    dependents: [...key.dependents],
  };
}

/** How Connect renders a value as a string in REST output: lists joined by ",", passwords hidden. */
export function renderValue(type: ConfigType | undefined, value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (type === 'PASSWORD' || value instanceof Password) return Password.HIDDEN;
  if (Array.isArray(value)) return value.map(String).join(',');
  return String(value);
}

const INT_LIMITS: Partial<Record<ConfigType, [number, number]>> = {
  SHORT: [-32768, 32767],
  INT: [-2147483648, 2147483647],
  LONG: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

/** Parses a raw (usually string) value into the key's type, as Connect's ConfigDef.parseType does. */
export function parseValue(key: Pick<ConfigKey, 'name' | 'type'>, raw: unknown): unknown {
  const { name, type } = key;
  const shown = type === 'PASSWORD' ? Password.HIDDEN : raw;
  // Connect's ConfigDef.parseType messages, word for word.
  const bad = (expected: string): ConfigError => ConfigError.invalid(name, shown, `Expected value to be ${expected}`);
  const notANumber = (): ConfigError => ConfigError.invalid(name, shown, `Not a number of type ${type}`);
  switch (type) {
    case 'BOOLEAN': {
      if (typeof raw === 'boolean') return raw;
      if (typeof raw === 'string') {
        const t = raw.trim().toLowerCase();
        if (t === 'true') return true;
        if (t === 'false') return false;
      }
      throw bad('either true or false');
    }
    case 'PASSWORD':
      if (raw instanceof Password) return raw;
      if (typeof raw === 'string') return new Password(raw);
      throw bad('a string');
    case 'STRING':
    case 'CLASS':
      if (typeof raw === 'string') return raw.trim();
      if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
      throw bad('a string');
    case 'SHORT':
    case 'INT':
    case 'LONG': {
      const n =
        typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*[+-]?\d+\s*$/.test(raw) ? Number(raw) : NaN;
      const [lo, hi] = INT_LIMITS[type]!;
      if (!Number.isInteger(n) || n < lo || n > hi) {
        if (typeof raw === 'string') throw notANumber();
        throw bad(type === 'LONG' ? 'a 64-bit integer' : type === 'INT' ? 'a 32-bit integer' : 'a 16-bit integer');
      }
      return n;
    }
    case 'DOUBLE': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (Number.isNaN(n)) throw typeof raw === 'string' ? notANumber() : bad('a double');
      return n;
    }
    case 'LIST': {
      if (Array.isArray(raw)) return raw.map((x) => String(x).trim());
      if (typeof raw === 'string') {
        const t = raw.trim();
        return t === '' ? [] : t.split(/\s*,\s*/);
      }
      throw bad('a comma-separated list');
    }
  }
}

/** Common validators, named and described like Connect's. */
export const Validators = {
  atLeast(min: number): Validator {
    return {
      ensureValid(name, value) {
        if (value === null) throw ConfigError.invalid(name, null, 'Value must be non-null');
        if ((value as number) < min) throw ConfigError.invalid(name, value, `Value must be at least ${min}`);
      },
      describe: () => `[${min},...]`,
    };
  },
  between(min: number, max: number): Validator {
    return {
      ensureValid(name, value) {
        const n = value as number;
        if (value === null) throw ConfigError.invalid(name, null, 'Value must be non-null');
        if (n < min || n > max) {
          throw ConfigError.invalid(name, value, `Value must be between ${min} and ${max}`);
        }
      },
      describe: () => `[${min},...,${max}]`,
    };
  },
  in(...allowed: string[]): Validator {
    return {
      ensureValid(name, value) {
        if (value !== null && !allowed.includes(value as string)) {
          throw ConfigError.invalid(name, value, `String must be one of: ${allowed.join(', ')}`);
        }
      },
      describe: () => `[${allowed.join(', ')}]`,
    };
  },
  inIgnoreCase(...allowed: string[]): Validator {
    const lower = allowed.map((a) => a.toLowerCase());
    return {
      ensureValid(name, value) {
        if (value !== null && !lower.includes(String(value).toLowerCase())) {
          throw ConfigError.invalid(name, value, `String must be one of (case insensitive): ${allowed.join(', ')}`);
        }
      },
      describe: () => `(case insensitive) [${allowed.join(', ')}]`,
    };
  },
  nonEmptyString(): Validator {
    return {
      ensureValid(name, value) {
        if (value === null || value === undefined || (value as string).length === 0) {
          throw ConfigError.invalid(name, value, 'String must be non-empty');
        }
      },
      describe: () => 'non-empty string',
    };
  },
  nonEmptyList(): Validator {
    return {
      ensureValid(name, value) {
        if (!Array.isArray(value) || value.length === 0) throw ConfigError.invalid(name, value ?? '', 'Empty list');
      },
      describe: () => 'non-empty list',
    };
  },
  /** Each list item must be one of these. */
  listOf(...allowed: string[]): Validator {
    return {
      ensureValid(name, value) {
        for (const item of (value as string[] | null) ?? []) {
          if (!allowed.includes(item)) {
            throw ConfigError.invalid(name, item, `Item must be one of: ${allowed.join(', ')}`);
          }
        }
      },
      describe: () => `[${allowed.join(', ')}]`,
    };
  },
  regex(): Validator {
    return {
      ensureValid(name, value) {
        if (value === null) return;
        try {
          new RegExp(value as string);
        } catch (e) {
          throw ConfigError.invalid(name, value, `Invalid regex: ${(e as Error).message}`);
        }
      },
      describe: () => 'valid regex',
    };
  },
  /** Runs several validators in order. */
  all(...validators: Validator[]): Validator {
    return {
      ensureValid(name, value) {
        for (const v of validators) v.ensureValid(name, value);
      },
      describe: () => validators.map((v) => v.describe()).join(', '),
    };
  },
  custom(describe: string, check: (name: string, value: unknown) => void): Validator {
    return { ensureValid: check, describe: () => describe };
  },
};

/** Markdown docs for a plugin, generated from its spec. */
export function configDefToMarkdown(def: ConfigDef): string {
  const rows = def.configKeys().map((k) => {
    const dflt = k.defaultValue === NO_DEFAULT ? '(required)' : `\`${renderValue(k.type, k.defaultValue) ?? 'null'}\``;
    const valid = k.validator ? k.validator.describe() : '';
    const doc = k.documentation.replace(/\|/g, '\\|').replace(/\n/g, ' ');
    return `| \`${k.name}\` | ${k.type} | ${dflt} | ${valid} | ${k.importance} | ${doc} |`;
  });
  return [
    '| key | type | default | valid values | importance | description |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

/** A JSON Schema (draft 2020-12) for a plugin's config object, for editors and integration files. */
export function configDefToJsonSchema(def: ConfigDef, title?: string): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  for (const k of def.configKeys()) {
    const typeOf =
      k.type === 'BOOLEAN'
        ? ['boolean', 'string']
        : k.type === 'INT' || k.type === 'SHORT' || k.type === 'LONG'
          ? ['integer', 'string']
          : k.type === 'DOUBLE'
            ? ['number', 'string']
            : k.type === 'LIST'
              ? ['string', 'array']
              : ['string'];
    const prop: Record<string, unknown> = { type: typeOf, description: k.documentation };
    if (k.defaultValue !== NO_DEFAULT && k.defaultValue !== null && k.type !== 'PASSWORD') {
      prop.default = renderValue(k.type, k.defaultValue);
    }
    if (k.type === 'PASSWORD') prop.writeOnly = true;
    properties[k.name] = prop;
    if (k.defaultValue === NO_DEFAULT) required.push(k.name);
  }
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    ...(title ? { title } : {}),
    type: 'object',
    properties,
    required,
    additionalProperties: true,
  };
}
