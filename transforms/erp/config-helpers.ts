import { readFileSync } from 'node:fs';
import { ConfigError, type RawConfig, YamlLoadError, loadYaml } from '../../runtime/api/index.js';
import { isPlainObject } from '../support.js';

/** Config parsing the ERP SMTs share: `a:b` pair lists and YAML/JSON side files. */

/** Parses `left:right` items; topic names contain no ':' so the first ':' splits (right may hold more). */
export function parsePairs(key: string, items: readonly string[], what = 'name:value'): Array<[string, string]> {
  return items.map((item) => {
    const i = item.indexOf(':');
    const left = i < 0 ? '' : item.slice(0, i).trim();
    const right = i < 0 ? '' : item.slice(i + 1).trim();
    if (left === '' || right === '') throw ConfigError.invalid(key, item, `Expected ${what}`);
    return [left, right];
  });
}

export function pairsToMap(key: string, items: readonly string[], what?: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of parsePairs(key, items, what)) {
    if (out.has(k) && out.get(k) !== v) throw ConfigError.invalid(key, k, `"${k}" is mapped twice`);
    out.set(k, v);
  }
  return out;
}

/** Reads a YAML or JSON file (YAML is a superset of JSON) into plain data. */
export function readDataFile(key: string, path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw ConfigError.invalid(key, path, `cannot read the file: ${(e as Error).message}`);
  }
  try {
    return loadYaml(text, path);
  } catch (e) {
    if (!(e instanceof YamlLoadError)) throw e;
    const where = e.line !== undefined ? ` (line ${e.line})` : '';
    throw ConfigError.invalid(key, path, `the file${where} ${e.reason}`);
  }
}

/** A file's top-level mapping, or a ConfigError naming the key and file. */
export function readMappingFile(key: string, path: string): Record<string, unknown> {
  const data = readDataFile(key, path) ?? {};
  if (!isPlainObject(data)) throw ConfigError.invalid(key, path, 'the file must hold a mapping at the top level');
  return data;
}

/** A file value for a LIST key: a YAML sequence, a `k: v` mapping (→ "k:v" items), or a scalar list string. */
function listItems(value: unknown): string[] {
  if (Array.isArray(value)) return value.map((v) => String(v));
  if (isPlainObject(value)) return Object.entries(value).map(([k, v]) => `${k}:${String(v)}`);
  if (value === null || value === undefined) return [];
  return String(value)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * Merges options from a mapping file with connector config: list keys are combined (for `a:b` lists a
 * config entry replaces the file's entry with the same left side), scalar keys from config win.
 */
export function mergeFileOptions(
  fileKey: string,
  file: Record<string, unknown>,
  props: RawConfig,
  listKeys: ReadonlySet<string>,
  pairKeys: ReadonlySet<string>,
  knownKeys: readonly string[],
): Record<string, RawConfig[string]> {
  const merged: Record<string, RawConfig[string]> = { ...props };
  for (const [k, v] of Object.entries(file)) {
    if (!knownKeys.includes(k) || k === fileKey) {
      throw ConfigError.invalid(fileKey, k, `unknown option "${k}" in the mapping file`);
    }
    const given = props[k];
    if (!listKeys.has(k)) {
      if (given === undefined || given === null) merged[k] = v === null ? null : String(v);
      continue;
    }
    const fromFile = listItems(v);
    const fromConfig = listItems(Array.isArray(given) ? given : typeof given === 'string' ? given : null);
    let items: string[];
    if (pairKeys.has(k)) {
      const overridden = new Set(fromConfig.map((i) => i.split(':')[0]!.trim()));
      items = [...fromFile.filter((i) => !overridden.has(i.split(':')[0]!.trim())), ...fromConfig];
    } else {
      items = [...new Set([...fromFile, ...fromConfig])];
    }
    merged[k] = items.join(',');
  }
  return merged;
}
