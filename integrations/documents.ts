import { readFile, readdir, stat } from 'node:fs/promises';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { YamlLoadError, decodeUtf8, loadYamlDocuments } from '../runtime/api/index.js';
import { IntegrationFileError } from './problems.js';

/**
 * Reading integration files: YAML or JSON, one document per file, with `extends:` resolved. An overlay is
 * deep-merged onto its base: maps merge key by key, lists and scalars replace (a list is never appended to,
 * so an overlay says exactly which tables it wants), and `null` removes the base's value.
 */

export const INTEGRATION_FILE_EXTENSIONS = ['.yaml', '.yml', '.json'];
/** Golden tests next to an integration file (`acme.test.yaml`): read by `integrations test`, not as integrations. */
export const GOLDEN_TEST_FILE = /\.test\.(ya?ml|json)$/i;

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface LoadedDocument {
  /** As shown in messages: relative to the working directory when inside it. */
  file: string;
  absPath: string;
  /** The document with its `extends` chain merged in (and `extends` removed). */
  body: JsonObject;
  kind: string;
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge for overlays: maps merge, lists and scalars replace, null deletes. */
export function mergeOverlay(base: JsonObject, overlay: JsonObject): JsonObject {
  const out: JsonObject = { ...base };
  for (const [key, value] of Object.entries(overlay)) {
    if (value === null) delete out[key];
    else if (isObject(value) && isObject(out[key])) out[key] = mergeOverlay(out[key] as JsonObject, value);
    else out[key] = value;
  }
  return out;
}

function displayName(absPath: string, cwd: string): string {
  const rel = relative(cwd, absPath);
  return rel.startsWith('..') ? absPath : rel;
}

async function parseFile(absPath: string, file: string): Promise<JsonObject> {
  let text: string;
  try {
    text = decodeUtf8(await readFile(absPath), file);
  } catch (error) {
    if (error instanceof YamlLoadError) throw new IntegrationFileError([{ file, path: '', message: error.reason }]);
    const code = (error as NodeJS.ErrnoException).code;
    throw new IntegrationFileError([
      { file, path: '', message: code === 'ENOENT' ? 'file not found' : `cannot read: ${(error as Error).message}` },
    ]);
  }
  let value: unknown;
  if (extname(absPath).toLowerCase() === '.json') {
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new IntegrationFileError([{ file, path: '', message: `invalid JSON: ${(error as Error).message}` }]);
    }
  } else {
    let docs;
    try {
      docs = loadYamlDocuments(text, file);
    } catch (e) {
      if (!(e instanceof YamlLoadError)) throw e;
      const where = e.line !== undefined ? ` (line ${e.line})` : '';
      throw new IntegrationFileError([{ file, path: '', message: `invalid YAML${where}: ${e.reason}` }]);
    }
    const real = docs.filter((d) => !d.empty);
    if (real.length !== 1) {
      throw new IntegrationFileError([
        { file, path: '', message: `expected one YAML document, found ${real.length}: write one integration per file` },
      ]);
    }
    // Plain JS values: `${env:…}` placeholders and numbers stay as written (YAML core schema).
    value = real[0]!.value;
  }
  if (!isObject(value)) {
    throw new IntegrationFileError([{ file, path: '', message: 'expected a mapping with apiVersion, kind, metadata' }]);
  }
  return value;
}

/** Loads one file and its `extends` chain (relative to each file), detecting cycles. */
export async function loadDocument(
  absPath: string,
  cwd: string,
  seen: readonly string[] = [],
): Promise<LoadedDocument> {
  const file = displayName(absPath, cwd);
  if (seen.includes(absPath)) {
    throw new IntegrationFileError([
      {
        file,
        path: 'extends',
        message: `extends cycle: ${[...seen, absPath].map((p) => displayName(p, cwd)).join(' → ')}`,
      },
    ]);
  }
  let body = await parseFile(absPath, file);
  const ext = body.extends;
  if (ext !== undefined) {
    if (typeof ext !== 'string' || ext.trim() === '') {
      throw new IntegrationFileError([
        { file, path: 'extends', message: 'expected a relative file path, e.g. ./base.yaml' },
      ]);
    }
    const basePath = resolve(dirname(absPath), ext);
    let base: LoadedDocument;
    try {
      base = await loadDocument(basePath, cwd, [...seen, absPath]);
    } catch (error) {
      if (error instanceof IntegrationFileError && error.problems[0]?.message === 'file not found') {
        throw new IntegrationFileError([{ file, path: 'extends', message: `base file ${ext} not found` }]);
      }
      throw error;
    }
    const { extends: _drop, ...overlay } = body;
    // The base's kind (IntegrationTemplate) never leaks into the overlay: the overlay says what it is.
    const { kind: _baseKind, ...baseBody } = base.body;
    body = mergeOverlay(baseBody, overlay);
  }
  return { file, absPath, body, kind: typeof body.kind === 'string' ? body.kind : '' };
}

/** Every .yaml/.yml/.json under the inputs (directories recursively, sorted), loaded with overlays applied. */
export async function loadDocuments(inputs: readonly string[], cwd = process.cwd()): Promise<LoadedDocument[]> {
  const paths: string[] = [];
  for (const input of inputs) {
    const abs = resolve(cwd, input);
    let info;
    try {
      info = await stat(abs);
    } catch {
      throw new IntegrationFileError([{ file: input, path: '', message: 'no such file or directory' }]);
    }
    if (info.isDirectory()) paths.push(...(await listFiles(abs)));
    else paths.push(abs);
  }
  const unique = [...new Set(paths)];
  return Promise.all(unique.map((p) => loadDocument(p, cwd)));
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  const out: string[] = [];
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p)));
    else if (INTEGRATION_FILE_EXTENSIONS.includes(extname(e.name).toLowerCase()) && !GOLDEN_TEST_FILE.test(e.name))
      out.push(p);
  }
  return out;
}
