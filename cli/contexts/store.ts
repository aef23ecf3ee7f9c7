import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { YamlLoadError, decodeUtf8, loadYaml } from '../../runtime/api/index.js';
import { CliError } from '../errors.js';

/**
 * Named clusters ("contexts", as in kubectl and kcctl) in `~/.config/erpstream/config.yaml`
 * (`$ERPSTREAM_CONFIG` overrides the path):
 *
 *   current-context: prod
 *   contexts:
 *     prod:
 *       connect-url: https://connect.example.com
 *       username: ops
 *       password: ${env:CONNECT_PASSWORD}   # resolved when used; never stored in clear unless given so
 *
 * Keys this module does not know are kept as they are, so other commands can add their own settings.
 */

export interface ConnectContext {
  'connect-url'?: string;
  username?: string;
  password?: string;
  token?: string;
  'timeout-ms'?: number;
  [key: string]: unknown;
}

export interface ContextsFile {
  'current-context'?: string;
  contexts: Record<string, ConnectContext>;
  [key: string]: unknown;
}

export function contextsPath(env: NodeJS.ProcessEnv): string {
  if (env.ERPSTREAM_CONFIG?.trim()) return env.ERPSTREAM_CONFIG.trim();
  const home = env.HOME?.trim() || homedir();
  return join(home, '.config', 'erpstream', 'config.yaml');
}

/** The contexts file, or an empty one when it does not exist yet. */
export async function readContexts(env: NodeJS.ProcessEnv): Promise<ContextsFile> {
  const path = contextsPath(env);
  let text: string;
  try {
    text = decodeUtf8(await readFile(path), path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { contexts: {} };
    if (error instanceof YamlLoadError) {
      throw CliError.invalidInput(
        `The erpstream config ${error.message}.`,
        'Fix the file by hand, or move it away and recreate contexts with `erpstream config set-context`.',
        error,
      );
    }
    throw CliError.invalidInput(
      `Cannot read the erpstream config ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}.`,
      'Check the file permissions, or point ERPSTREAM_CONFIG at another file.',
      error,
    );
  }
  let doc: unknown;
  try {
    doc = loadYaml(text, path) ?? {};
  } catch (error) {
    if (!(error instanceof YamlLoadError)) throw error;
    throw CliError.invalidInput(
      `The erpstream config ${error.message}.`,
      'Fix the file by hand, or move it away and recreate contexts with `erpstream config set-context`.',
      error,
    );
  }
  if (!isObject(doc) || (doc.contexts !== undefined && doc.contexts !== null && !isObject(doc.contexts))) {
    throw CliError.invalidInput(
      `The erpstream config ${path} must be a mapping with a "contexts" mapping.`,
      'Fix the file by hand, or move it away and recreate contexts with `erpstream config set-context`.',
    );
  }
  const contexts = (doc.contexts ?? {}) as Record<string, unknown>;
  for (const [name, value] of Object.entries(contexts)) {
    if (!isObject(value)) {
      throw CliError.invalidInput(
        `The erpstream config ${path}: context "${name}" must be a mapping (connect-url: ..., ...).`,
        `Fix contexts.${name} in ${path}, or recreate it with \`erpstream config set-context ${name} ...\`.`,
      );
    }
  }
  return { ...doc, contexts: contexts as Record<string, ConnectContext> };
}

/** Writes atomically and readable by the owner only: the file may hold credentials. */
export async function writeContexts(env: NodeJS.ProcessEnv, file: ContextsFile): Promise<string> {
  const path = contextsPath(env);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, toYaml(file), { mode: 0o600 });
  await rename(tmp, path);
  return path;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
