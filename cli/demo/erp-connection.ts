import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CliError, ExitCode } from '../errors.js';

/**
 * How the demo hands the ERP's connection to the connectors: as config-provider references, the way a
 * production deployment keeps secrets out of connector configs. The integration files say
 * `${env:ERP_DB_URL}`, `${env:ERP_DB_USER}`, `${env:ERP_DB_PASSWORD}`; the demo's worker runs in the
 * demo's own process, so `${env:…}` would read (or make the demo overwrite) the user's own variables of
 * those names. The demo therefore writes this run's values to a properties file in the worker's private
 * temp directory and points the placeholders at it with the worker's `file` provider
 * (`${file:<dir>/erp-connection.properties:ERP_DB_PASSWORD}`). The worker resolves them before it
 * validates a config; configs over REST, task configs and logs keep the reference.
 */

export const ERP_CONNECTION_FILE = 'erp-connection.properties';

/** The names the integration files use (`${env:<name>}`), plus the URL with credentials. */
export interface ErpConnectionValues {
  /** Without credentials: they come from `…connection.user` / `…connection.password`. */
  ERP_DB_URL: string;
  ERP_DB_USER: string;
  ERP_DB_PASSWORD: string;
  /** The URL as given, with credentials: never written into a config, only looked for (keysShowingSecrets). */
  ERP_DB_URL_WITH_CREDENTIALS: string;
}

export function erpConnectionValues(urlWithCredentials: string): ErpConnectionValues {
  const u = new URL(urlWithCredentials);
  const user = decodeURIComponent(u.username);
  const password = decodeURIComponent(u.password);
  u.username = '';
  u.password = '';
  return {
    ERP_DB_URL: u.toString(),
    ERP_DB_USER: user,
    ERP_DB_PASSWORD: password,
    ERP_DB_URL_WITH_CREDENTIALS: urlWithCredentials,
  };
}

/** Java properties text that `parseProperties` reads back exactly, whatever characters a password holds. */
export function propertiesText(values: Readonly<Record<string, string>>, comment: string): string {
  const escape = (v: string) =>
    v.replace(/\\|[^\x21-\x7e]/g, (c) => (c === '\\' ? '\\\\' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  const lines = [`# ${comment}`, ...Object.entries(values).map(([k, v]) => `${k}=${escape(v)}`)];
  return `${lines.join('\n')}\n`;
}

/** Writes the values where only this user can read them; returns the file's path. */
export async function writeErpConnectionFile(
  dir: string,
  values: ErpConnectionValues,
  comment: string,
): Promise<string> {
  const file = path.join(dir, ERP_CONNECTION_FILE);
  // A placeholder's path ends at the next ':' or '}' (Connect's pattern), so the path must not hold them.
  if (/[:}]/.test(file))
    throw new CliError(`The demo's temp directory ${dir} contains ':' or '}': set TMPDIR elsewhere.`, {
      exitCode: ExitCode.FAILURE,
    });
  await writeFile(file, propertiesText({ ...values }, comment), { mode: 0o600 });
  return file;
}

/** The config with every `${env:ERP_DB_…}` replaced by a `${file:…}` reference to the demo's file. */
export function withFileReferences(config: Readonly<Record<string, string>>, file: string): Record<string, string> {
  const names: ReadonlyArray<keyof ErpConnectionValues> = ['ERP_DB_URL', 'ERP_DB_USER', 'ERP_DB_PASSWORD'];
  return Object.fromEntries(
    Object.entries(config).map(([key, value]) => [
      key,
      names.reduce((text, name) => {
        return text.split(`\${env:${name}}`).join(`\${file:${file}:${name}}`);
      }, value),
    ]),
  );
}

/** Keys of a config as the worker shows it that give away the ERP's password (in a URL or on its own). */
export function keysShowingSecrets(config: Readonly<Record<string, string>>, values: ErpConnectionValues): string[] {
  return Object.entries(config)
    .filter(
      ([, v]) =>
        v.includes(values.ERP_DB_URL_WITH_CREDENTIALS) ||
        (values.ERP_DB_PASSWORD !== '' && v === values.ERP_DB_PASSWORD),
    )
    .map(([k]) => k);
}
