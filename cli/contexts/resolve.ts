import type { ConnectAuth } from '../connect/client.js';
import { DEFAULT_TIMEOUT_MS } from '../connect/client.js';
import { CliError } from '../errors.js';
import { type ConnectContext, contextsPath, readContexts } from './store.js';

/**
 * Which Kafka Connect cluster a command talks to, and how:
 *   URL:  --connect-url  >  ERPSTREAM_CONNECT_URL  >  --context / ERPSTREAM_CONTEXT  >  current context  >  http://127.0.0.1:8083
 *   auth: ERPSTREAM_CONNECT_TOKEN (bearer)  >  ERPSTREAM_CONNECT_USERNAME/PASSWORD (basic)  >  the context's
 *         token / username+password, but only when the URL came from that context (credentials are never sent
 *         to a URL they were not stored for)  >  user:password@ in the URL.
 */

export const DEFAULT_CONNECT_URL = 'http://127.0.0.1:8083';

export interface ConnectTargetFlags {
  connectUrl?: string | undefined;
  context?: string | undefined;
  timeout?: string | undefined;
}

export interface ConnectTarget {
  url: string;
  auth: ConnectAuth | undefined;
  timeoutMs: number;
  /** Where the URL came from, for messages: "--connect-url", "ERPSTREAM_CONNECT_URL", 'context "prod"', "default". */
  source: string;
}

export async function resolveConnectTarget(flags: ConnectTargetFlags, env: NodeJS.ProcessEnv): Promise<ConnectTarget> {
  let url: string;
  let source: string;
  let context: ConnectContext | undefined;
  let contextName: string | undefined;
  const fromFlag = flags.connectUrl?.trim();
  const fromEnv = env.ERPSTREAM_CONNECT_URL?.trim();
  if (fromFlag) {
    url = fromFlag;
    source = '--connect-url';
  } else if (fromEnv) {
    url = fromEnv;
    source = 'ERPSTREAM_CONNECT_URL';
  } else {
    const file = await readContexts(env);
    const wanted = flags.context?.trim() || env.ERPSTREAM_CONTEXT?.trim() || undefined;
    contextName = wanted ?? file['current-context'];
    if (wanted !== undefined && file.contexts[wanted] === undefined) {
      const known = Object.keys(file.contexts);
      throw CliError.invalidInput(
        `No context named "${wanted}" in ${contextsPath(env)}${known.length ? ` (known: ${known.join(', ')})` : ''}.`,
        `Create it with \`erpstream config set-context ${wanted} --connect-url <url>\`.`,
      );
    }
    context = contextName === undefined ? undefined : file.contexts[contextName];
    if (context?.['connect-url']) {
      url = context['connect-url'];
      source = `context "${contextName}"`;
    } else {
      url = DEFAULT_CONNECT_URL;
      source = 'default';
      context = undefined;
    }
  }
  return {
    url,
    source,
    auth: resolveAuth(env, context, contextName),
    timeoutMs: resolveTimeout(flags.timeout, context),
  };
}

function resolveAuth(
  env: NodeJS.ProcessEnv,
  context: ConnectContext | undefined,
  contextName: string | undefined,
): ConnectAuth | undefined {
  if (env.ERPSTREAM_CONNECT_TOKEN) return { kind: 'bearer', token: env.ERPSTREAM_CONNECT_TOKEN };
  if (env.ERPSTREAM_CONNECT_USERNAME) {
    return { kind: 'basic', username: env.ERPSTREAM_CONNECT_USERNAME, password: env.ERPSTREAM_CONNECT_PASSWORD ?? '' };
  }
  if (!context) return undefined;
  const where = `context "${contextName}"`;
  if (context.token) return { kind: 'bearer', token: expandEnvRef(String(context.token), env, `${where} token`) };
  if (context.username) {
    return {
      kind: 'basic',
      username: expandEnvRef(String(context.username), env, `${where} username`),
      password: context.password ? expandEnvRef(String(context.password), env, `${where} password`) : '',
    };
  }
  return undefined;
}

/** `${env:NAME}` keeps secrets out of the config file; anything else is taken literally. */
export function expandEnvRef(value: string, env: NodeJS.ProcessEnv, what: string): string {
  const m = /^\$\{env:([^}]+)\}$/.exec(value.trim());
  if (!m) return value;
  const resolved = env[m[1]!];
  if (resolved === undefined) {
    throw CliError.invalidInput(
      `The ${what} refers to \${env:${m[1]}}, but ${m[1]} is not set.`,
      `Export ${m[1]} before running the command, or change the context with \`erpstream config set-context\`.`,
    );
  }
  return resolved;
}

function resolveTimeout(flag: string | undefined, context: ConnectContext | undefined): number {
  const raw = flag ?? context?.['timeout-ms'];
  if (raw === undefined) return DEFAULT_TIMEOUT_MS;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms <= 0) {
    throw CliError.invalidInput(
      `Invalid timeout ${JSON.stringify(raw)}: it must be a positive number of milliseconds.`,
      'Pass e.g. --timeout 30000.',
    );
  }
  return ms;
}
