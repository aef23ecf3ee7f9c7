import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { YamlLoadError, loadYaml } from '../runtime/api/index.js';
import { parseJsonExact } from '../runtime/api/exact-json.js';
// One `.properties` parser for the worker, the config providers and the CLI (Java's rules).
import { parseProperties } from '../runtime/config-providers/properties.js';
import { CliError } from './errors.js';

/**
 * Reads a connector config file: JSON or YAML, either the flat config map or Connect's REST body
 * `{"name": ..., "config": {...}}`; or a Java `.properties` file as used by connect-standalone.
 */
export interface ConnectorConfigFile {
  name: string | undefined;
  config: Record<string, unknown>;
}

export async function loadConnectorConfig(path: string): Promise<ConnectorConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw CliError.invalidInput(
      `Cannot read connector config ${path}: ${code === 'ENOENT' ? 'no such file' : code}.`,
      'Pass the connector config file with -c <file> (JSON, YAML or .properties).',
      error,
    );
  }
  const ext = extname(path).toLowerCase();
  const doc = ext === '.properties' ? parseProperties(text) : parseJsonOrYaml(text, path, ext);
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw CliError.invalidInput(
      `Connector config ${path} must be an object of config keys, found ${Array.isArray(doc) ? 'a list' : typeof doc}.`,
      'Write the config as {"transforms": "...", ...} or as {"name": "...", "config": {...}}.',
    );
  }
  const body = doc as Record<string, unknown>;
  if (body.config !== null && typeof body.config === 'object' && !Array.isArray(body.config)) {
    const config = { ...(body.config as Record<string, unknown>) };
    const name = typeof body.name === 'string' ? body.name : typeof config.name === 'string' ? config.name : undefined;
    if (name !== undefined) config.name ??= name;
    return { name, config };
  }
  return { name: typeof body.name === 'string' ? body.name : undefined, config: body };
}

function parseJsonOrYaml(text: string, path: string, ext: string): unknown {
  if (ext === '.json') {
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw CliError.invalidInput(
        `Connector config ${path} is not valid JSON: ${jsonErrorWithPosition(text, error)}.`,
        'Fix the JSON syntax at the position named above.',
        error,
      );
    }
  }
  // YAML is a superset of JSON, so any other extension parses both.
  try {
    return loadYaml(text, path);
  } catch (error) {
    if (!(error instanceof YamlLoadError)) throw error;
    throw CliError.invalidInput(`Connector config ${error.message}`, 'Fix the file at the line named above.', error);
  }
}

/** Node 20's JSON.parse does not say where; the exact parser does (line, column). */
function jsonErrorWithPosition(text: string, error: unknown): string {
  try {
    parseJsonExact(text);
  } catch (located) {
    return (located as Error).message;
  }
  return (error as Error).message;
}

export { parseProperties };
