import { readFile, readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { Decimal, YamlLoadError, decodeUtf8, loadYamlDocuments } from '../../runtime/api/index.js';
import { parseJsonExact } from '../../runtime/api/exact-json.js';
import { parseProperties } from '../config-file.js';
import { CliError } from '../errors.js';
import { HIDDEN } from './secrets.js';
import type { ConnectorConfig } from './types.js';

/**
 * Connector definitions for `connectors apply|create -f` and `plugins validate -f`: a file, a directory
 * (every .json/.yaml/.yml/.properties in it, by name), or `-` for stdin. A document is either Connect's REST
 * body `{"name": ..., "config": {...}}` (what `connectors get -o json` prints, so it round-trips) or the flat
 * config with a `name` key; YAML may hold several documents and JSON an array of them.
 */

export interface ConnectorDefinition {
  name: string;
  /** String values, as Connect stores them, with `name` included (as `GET .../config` returns it). */
  config: ConnectorConfig;
  /** Where it came from, for messages: "dir/orders.yaml", "dir/all.yaml#2", "stdin". */
  source: string;
}

export const CONNECTOR_FILE_EXTENSIONS = ['.json', '.yaml', '.yml', '.properties'];
const FILE_HINT =
  'Write {"name": "...", "config": {"connector.class": "...", ...}} or a flat config with a "name" key.';

export async function loadConnectorDefinitions(
  inputs: readonly string[],
  stdin: Readable,
): Promise<ConnectorDefinition[]> {
  if (inputs.length === 0) {
    throw CliError.invalidInput('No connector file given.', 'Pass -f <file|dir|-> (repeatable).');
  }
  const defs: ConnectorDefinition[] = [];
  for (const input of inputs) {
    if (input === '-') {
      defs.push(...parseConnectorText(await readAll(stdin), 'stdin', '.yaml'));
      continue;
    }
    for (const file of await expandInput(input)) {
      let bytes: Buffer;
      try {
        bytes = await readFile(file);
      } catch (error) {
        throw CliError.invalidInput(
          `Cannot read connector file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}.`,
          'Check the path and its permissions.',
          error,
        );
      }
      let text: string;
      try {
        text = decodeUtf8(bytes, file);
      } catch (error) {
        throw CliError.invalidInput(`Connector file ${(error as Error).message}.`, 'Save the file as UTF-8.', error);
      }
      defs.push(...parseConnectorText(text, file, extname(file).toLowerCase()));
    }
  }
  const seen = new Map<string, string>();
  for (const def of defs) {
    const first = seen.get(def.name);
    if (first !== undefined) {
      throw CliError.invalidInput(
        `Connector "${def.name}" is defined twice: in ${first} and in ${def.source}.`,
        'Keep one definition per connector name.',
      );
    }
    seen.set(def.name, def.source);
  }
  return defs;
}

async function expandInput(input: string): Promise<string[]> {
  let info;
  try {
    info = await stat(input);
  } catch (error) {
    throw CliError.invalidInput(
      `Cannot read connector file ${input}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : String(error)}.`,
      'Pass -f <file|dir|-> with a path that exists.',
      error,
    );
  }
  if (!info.isDirectory()) return [input];
  const files = (await readdir(input, { withFileTypes: true }))
    .filter((e) => e.isFile() && CONNECTOR_FILE_EXTENSIONS.includes(extname(e.name).toLowerCase()))
    .map((e) => join(input, e.name))
    .sort();
  if (files.length === 0) {
    throw CliError.invalidInput(
      `Directory ${input} has no connector files (${CONNECTOR_FILE_EXTENSIONS.join(', ')}).`,
      'Point -f at a directory of connector configs, or at a file.',
    );
  }
  return files;
}

/** Parses one file's text into definitions; `ext` picks the syntax (anything but .json/.properties is YAML). */
export function parseConnectorText(text: string, source: string, ext: string): ConnectorDefinition[] {
  const docs = parseDocuments(text, source, ext);
  const many = docs.length > 1;
  return docs.map((doc, i) => toDefinition(doc, many ? `${source}#${i + 1}` : source));
}

function parseDocuments(text: string, source: string, ext: string): unknown[] {
  if (ext === '.properties') return [parseProperties(text)];
  if (ext === '.json') {
    let doc: unknown;
    try {
      doc = parseJsonExact(text);
    } catch (error) {
      throw CliError.invalidInput(
        `Connector file ${source} is not valid JSON: ${(error as Error).message}.`,
        'Fix the JSON syntax at the position named above.',
        error,
      );
    }
    return Array.isArray(doc) ? doc : [doc];
  }
  let docs;
  try {
    docs = loadYamlDocuments(text, source, { intAsBigInt: true });
  } catch (error) {
    if (!(error instanceof YamlLoadError)) throw error;
    throw CliError.invalidInput(`Connector file ${error.message}`, 'Fix the file at the line named above.', error);
  }
  const values: unknown[] = [];
  for (const { value } of docs) {
    if (value === null || value === undefined) continue;
    values.push(...(Array.isArray(value) ? value : [value]));
  }
  if (values.length === 0) {
    throw CliError.invalidInput(`Connector file ${source} is empty.`, FILE_HINT);
  }
  return values;
}

function toDefinition(doc: unknown, source: string): ConnectorDefinition {
  if (!isObject(doc)) {
    throw CliError.invalidInput(
      `Connector file ${source} must hold an object, found ${doc === null ? 'null' : Array.isArray(doc) ? 'a list' : typeof doc}.`,
      FILE_HINT,
    );
  }
  const wrapped = isObject(doc.config);
  const rawConfig = wrapped ? (doc.config as Record<string, unknown>) : doc;
  const prefix = wrapped ? 'config.' : '';
  if (wrapped) {
    // `tasks` and `type` come with `connectors get -o json`; they are Connect's, not settable.
    const unknown = Object.keys(doc).filter((k) => !['name', 'config', 'tasks', 'type'].includes(k));
    if (unknown.length > 0) {
      throw CliError.invalidInput(
        `Connector file ${source}: unexpected top-level key "${unknown[0]}" next to "config".`,
        'Move connector settings into "config"; only "name" and "config" belong at the top.',
      );
    }
  }
  const topName = wrapped ? doc.name : undefined;
  const innerName = rawConfig.name;
  const name = topName ?? innerName;
  if (name !== undefined && name !== null && typeof name !== 'string') {
    throw CliError.invalidInput(
      `Connector file ${source}: "name" must be a string, found ${Array.isArray(name) ? 'a list' : typeof name === 'bigint' ? 'number' : typeof name}.`,
      `Quote the connector's name: ${FILE_HINT}`,
    );
  }
  if (typeof name !== 'string' || name.trim() === '') {
    throw CliError.invalidInput(
      `Connector file ${source}: "name" is missing or empty.`,
      // A .properties file cannot hold the {"name", "config"} shape, so it gets the one line it lacks.
      source.endsWith('.properties')
        ? 'Add a line name=<connector name> to the file (the name Connect will know the connector by).'
        : `Give the connector a name: ${FILE_HINT}`,
    );
  }
  if (topName !== undefined && innerName !== undefined && innerName !== topName) {
    throw CliError.invalidInput(
      `Connector file ${source}: "name" is ${JSON.stringify(topName)} but "config.name" is ${JSON.stringify(innerName)}.`,
      'Connect refuses a config whose name differs from the connector name; make them equal or drop config.name.',
    );
  }
  const config: ConnectorConfig = {};
  for (const [key, value] of Object.entries(rawConfig)) {
    config[key] = configString(value, `${prefix}${key}`, source);
    if (config[key] === HIDDEN) {
      // Applying a masked value would overwrite the real secret with the mask.
      throw CliError.invalidInput(
        `Connector file ${source}: "${prefix}${key}" is "${HIDDEN}", a masked value as printed by \`connectors get\`.`,
        `Put the real value or a config-provider reference (e.g. \${env:VAR}) in "${prefix}${key}", or use \`connectors get --show-secrets\`.`,
      );
    }
  }
  config.name = name;
  if (!config['connector.class']?.trim()) {
    throw CliError.invalidInput(
      `Connector file ${source}: "${prefix}connector.class" is missing for connector "${name}".`,
      'Set connector.class to the plugin class, e.g. org.apache.kafka.connect.file.FileStreamSourceConnector ' +
        '(`erpstream plugins list` shows what the cluster has).',
    );
  }
  return { name: name.trim(), config, source };
}

/** Connect configs are string maps; YAML gives numbers, booleans and lists, which have one string form. */
function configString(value: unknown, field: string, source: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value instanceof Decimal) return value.toString();
  if (Array.isArray(value) && value.every((v) => ['string', 'number', 'bigint', 'boolean'].includes(typeof v))) {
    return value.map(String).join(','); // Connect's LIST type
  }
  const found = value === null ? 'null' : Array.isArray(value) ? 'a nested list' : typeof value;
  throw CliError.invalidInput(
    `Connector file ${source}: "${field}" must be a string, number, boolean or list of them, found ${found}.`,
    value === null
      ? `Remove "${field}" to leave it unset (Connect rejects null values).`
      : `Write "${field}" as a single value; nested keys are spelled out with dots (e.g. "transforms.route.type").`,
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Decimal);
}

async function readAll(stream: Readable): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
  return text;
}
