import type { ErrorCode } from './error-codes.js';
import { type Document, LineCounter, isMap, isScalar, parseAllDocuments, visit } from 'yaml';

/**
 * The one YAML loader (connector, integration, contexts, worker and transform files). It stays linear in the
 * file's size: the `yaml` package's own duplicate-key check compares every key with every other one (15 s for a
 * 390 KB map, minutes for 2 MB), so it is off and a Set-based check replaces it. Input is capped in size, and
 * alias bombs, unresolved aliases and duplicate keys are errors that name the file and line.
 */

/** The size cap of a YAML file, unless `ERPSTREAM_YAML_MAX_BYTES` says otherwise. */
export const DEFAULT_YAML_MAX_BYTES = 8 * 1024 * 1024;

/** How many alias expansions a document may need (the `yaml` default): more is a resource exhaustion attempt. */
const MAX_ALIAS_COUNT = 100;

/** Not a ConfigError on purpose: the CLI and the worker report a file problem with its own wording and exit code. */
export class YamlLoadError extends Error {
  readonly code = 'ERPSTREAM_YAML' satisfies ErrorCode;
  constructor(
    /** The file (or stdin) as named in messages. */
    readonly source: string,
    /** What is wrong, without the file name. */
    readonly reason: string,
    readonly line?: number,
    readonly column?: number,
    options?: { cause?: unknown },
  ) {
    super(
      `${source}${line !== undefined ? ` (line ${line}${column !== undefined ? `, column ${column}` : ''})` : ''}: ${reason}`,
      options,
    );
    this.name = 'YamlLoadError';
  }
}

export interface YamlLoadOptions {
  /** Numbers without a fraction as bigint (offsets, exact ids). */
  intAsBigInt?: boolean;
  /** Overrides the size cap (bytes). */
  maxBytes?: number;
}

export interface YamlDocumentValue {
  value: unknown;
  /** An empty document (`---` with nothing after it), as opposed to an explicit `null`. */
  empty: boolean;
}

export function yamlMaxBytes(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.ERPSTREAM_YAML_MAX_BYTES;
  const n = raw === undefined ? NaN : Number(raw);
  return Number.isSafeInteger(n) && n > 0 ? n : DEFAULT_YAML_MAX_BYTES;
}

/** Decodes a file's bytes as UTF-8, refusing invalid sequences (instead of turning them into U+FFFD). */
export function decodeUtf8(bytes: Uint8Array, source: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch (e) {
    throw new YamlLoadError(source, 'is not valid UTF-8; save it as UTF-8', undefined, undefined, { cause: e });
  }
}

/** Every document of a YAML (or JSON) text as plain values. */
export function loadYamlDocuments(text: string, source: string, options: YamlLoadOptions = {}): YamlDocumentValue[] {
  const max = options.maxBytes ?? yamlMaxBytes();
  const size = Buffer.byteLength(text, 'utf8');
  if (size > max) {
    throw new YamlLoadError(
      source,
      `is ${size} bytes, more than the ${max}-byte limit for YAML files; split it, or raise ERPSTREAM_YAML_MAX_BYTES`,
    );
  }
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, {
    uniqueKeys: false,
    lineCounter: lines,
    ...(options.intAsBigInt ? { intAsBigInt: true } : {}),
  });
  const list = Array.isArray(docs) ? docs : [docs];
  const out: YamlDocumentValue[] = [];
  for (const doc of list) {
    const error = doc.errors[0];
    if (error) {
      const at = error.linePos?.[0];
      const reason = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      throw new YamlLoadError(source, `is not valid YAML: ${reason}`, at?.line, at?.col, {
        cause: error,
      });
    }
    checkDuplicateKeys(doc, source, lines);
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (e) {
      const message = (e as Error).message;
      const reason = /alias count/i.test(message)
        ? `aliases expand too much (more than ${MAX_ALIAS_COUNT}-fold): refused as a resource exhaustion attempt`
        : message.split('\n')[0]!;
      throw new YamlLoadError(source, reason, undefined, undefined, { cause: e });
    }
    out.push({ value, empty: doc.contents === null });
  }
  return out;
}

/** The one document of a YAML text (an empty text is `null`); several documents are an error. */
export function loadYaml(text: string, source: string, options: YamlLoadOptions = {}): unknown {
  const docs = loadYamlDocuments(text, source, options);
  if (docs.length > 1) {
    throw new YamlLoadError(source, `holds ${docs.length} YAML documents where one is expected`);
  }
  return docs[0]?.value ?? null;
}

/** Duplicate keys in any mapping, by a Set per mapping: linear in the number of keys. */
function checkDuplicateKeys(doc: Document, source: string, lines: LineCounter): void {
  visit(doc, {
    Map(_, map) {
      if (!isMap(map)) return;
      const seen = new Set<string>();
      for (const item of map.items) {
        const key = item.key;
        if (!isScalar(key)) continue; // complex keys are rare; the `yaml` package compares those itself
        const name = String(key.value);
        if (seen.has(name)) {
          const at = key.range ? lines.linePos(key.range[0]) : undefined;
          throw new YamlLoadError(
            source,
            `the key "${String(key.value)}" appears twice in one mapping; keep one`,
            at?.line,
            at?.col,
          );
        }
        seen.add(name);
      }
    },
  });
}
