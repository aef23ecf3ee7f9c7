import { didYouMean, didYouMeanText } from '../../runtime/worker/unknown-keys.js';
import { CliError, ExitCode } from '../errors.js';

/**
 * Errors from a Kafka Connect REST call. Each carries Connect's own `{error_code, message}` and the call
 * that failed, and maps to the CLI's exit codes: 400 → 2 (the config is invalid), other HTTP errors → 1,
 * no answer at all → 3.
 */

export interface ConnectCall {
  method: string;
  path: string;
  /** The cluster's base URL without credentials, for messages. */
  baseUrl: string;
}

export class ConnectApiError extends CliError {
  readonly status: number;
  /** Connect's `error_code` (equal to the HTTP status on Connect) when the body had one. */
  readonly errorCode: number | undefined;
  /** Connect's `message`, or the raw body when it was not Connect's error shape. */
  readonly connectMessage: string;
  readonly call: ConnectCall;

  constructor(
    call: ConnectCall,
    status: number,
    body: { error_code?: number; message: string },
    options: { exitCode?: ExitCode; hint?: string } = {},
  ) {
    super(`Kafka Connect at ${call.baseUrl} answered ${status} to ${call.method} ${call.path}: ${body.message}`, {
      exitCode: options.exitCode ?? ExitCode.FAILURE,
      ...(options.hint === undefined ? {} : { hint: options.hint }),
    });
    this.name = new.target.name;
    this.status = status;
    this.errorCode = body.error_code;
    this.connectMessage = body.message;
    this.call = call;
  }
}

/** 404: the connector, task, plugin or logger does not exist. */
export class ConnectNotFoundError extends ConnectApiError {}

/** 409: a rebalance or a concurrent change is in flight, or the connector already exists. */
export class ConnectConflictError extends ConnectApiError {
  /** True for "Connector x already exists": retrying will never help. */
  get alreadyExists(): boolean {
    return /already exists/i.test(this.connectMessage);
  }
}

/** 400: Connect rejected the request body, usually a config that does not validate. */
export class ConnectBadRequestError extends ConnectApiError {}

/** 401/403: credentials missing or refused. */
export class ConnectAuthError extends ConnectApiError {}

/** No HTTP answer: connection refused, DNS failure, TLS failure, timeout, or a gateway with no backend. */
export class ConnectUnreachableError extends CliError {
  readonly call: ConnectCall;

  constructor(call: ConnectCall, reason: string, cause?: unknown) {
    super(`Cannot reach Kafka Connect at ${call.baseUrl} (${call.method} ${call.path}): ${reason}.`, {
      exitCode: ExitCode.UNREACHABLE,
      hint:
        'Check that the Connect worker runs and that the URL is right: --connect-url, ERPSTREAM_CONNECT_URL or ' +
        '`erpstream config current-context` say which one is used.',
      cause,
    });
    this.name = 'ConnectUnreachableError';
    this.call = call;
  }
}

/** Builds the typed error for a non-2xx answer, with a hint that says what to do next. */
export function connectErrorFor(
  call: ConnectCall,
  status: number,
  body: { error_code?: number; message: string },
): ConnectApiError {
  const path = call.path.split('?')[0]!;
  switch (true) {
    case UNKNOWN_CLASS.test(body.message):
      // Connect 3.9 answers 500 for a connector.class it does not have (4.x and erpstream 400): the input's fault.
      // The list of every installed plugin (Connect's PluginDesc dumps) drowns the point; the hint names the match.
      return new (status === 400 ? ConnectBadRequestError : ConnectApiError)(
        call,
        status,
        { ...body, message: body.message.replace(/, available connectors are:.*$/s, '') },
        {
          exitCode: ExitCode.INVALID_INPUT,
          hint: unknownClassHint(body.message),
        },
      );
    case status === 400:
      return new ConnectBadRequestError(call, status, body, {
        exitCode: ExitCode.INVALID_INPUT,
        hint: /STOPPED state/.test(body.message)
          ? 'Stop the connector first (`erpstream connectors stop <name>`), change the offsets, then resume it.'
          : path.startsWith('/erpstream/')
            ? // erpstream's own endpoints refuse arguments (a key, an entity, a time), not connector config keys.
              'Fix the argument or option the message above names (`erpstream <command> --help` lists them).'
            : 'Fix the config keys named above; `erpstream plugins validate -f <file>` lists every error per key.',
      });
    case status === 401 || status === 403:
      return new ConnectAuthError(call, status, body, {
        hint:
          'Give credentials: ERPSTREAM_CONNECT_USERNAME and ERPSTREAM_CONNECT_PASSWORD (basic auth), ' +
          'ERPSTREAM_CONNECT_TOKEN (bearer), or store them in a context (`erpstream config set-context`).',
      });
    case status === 404:
      return new ConnectNotFoundError(call, status, body, {
        // Jersey's own 404 (no such route) rather than Connect's "Connector x not found".
        hint: /^HTTP 404 Not Found$/.test(body.message)
          ? path.startsWith('/erpstream/')
            ? // The shared stack's Apache Kafka Connect on :8083 is where a new user's commands go by default.
              'Only an erpstream worker has /erpstream/v1 endpoints (Apache Kafka Connect answers 404): point ' +
              '--connect-url or ERPSTREAM_CONNECT_URL at one, e.g. the worker URL `erpstream demo` prints.'
            : 'This worker has no such endpoint: it may be older than the command needs (see `erpstream <command> --help`).'
          : notFoundHint(path),
      });
    case status === 409:
      return new ConnectConflictError(call, status, body, {
        hint: /already exists/i.test(body.message)
          ? 'Use `erpstream connectors apply -f <file>` to update an existing connector, or delete it first.'
          : 'The cluster is rebalancing or another change is in flight; retry in a few seconds.',
      });
    default:
      return new ConnectApiError(call, status, body, {
        hint:
          status >= 500
            ? 'The worker failed to handle the request; its log names the cause. Retry once the cluster is stable.'
            : 'The request was refused; the message above names the cause.',
      });
  }
}

const UNKNOWN_CLASS = /Failed to find any class that implements Connector and which name matches ([^\s,]+)/;

/** "did you mean" over the classes the message lists (Connect's PluginDesc{klass=class …} or plain names). */
function unknownClassHint(message: string): string {
  const wanted = UNKNOWN_CLASS.exec(message)![1]!;
  const listed = message.slice(message.indexOf('available connectors are:'));
  const classes = [
    ...new Set(
      [...listed.matchAll(/klass=class ([\w.$]+)|(?:[:,]\s*)([\w$]+(?:\.[\w$]+)+)(?=,|$)/g)].map((m) => m[1] ?? m[2]!),
    ),
  ];
  const simple = (c: string) => c.slice(c.lastIndexOf('.') + 1);
  const bySimple = new Map(classes.map((c) => [simple(c), c]));
  const guess = [
    ...new Set([
      ...didYouMean(wanted, classes),
      ...didYouMean(simple(wanted), [...bySimple.keys()]).map((s) => bySimple.get(s)!),
    ]),
  ];
  const text = didYouMeanText(guess);
  return (
    `Check connector.class${text ? `: ${text}` : '.'} ` +
    '`erpstream plugins list` shows the connector classes the cluster has.'
  );
}

function notFoundHint(path: string): string {
  if (/^\/connectors\/[^/]+\/tasks\//.test(path)) {
    return 'Check the task id: `erpstream connectors status <name>` lists the tasks.';
  }
  if (path.startsWith('/connectors/')) return '`erpstream connectors list` shows the connectors that exist.';
  if (path.startsWith('/connector-plugins/')) return '`erpstream plugins list` shows the installed plugins.';
  if (path.startsWith('/admin/loggers/')) return '`erpstream loggers get` lists the loggers that have a level set.';
  return 'Is this URL a Kafka Connect REST endpoint? `curl <url>/` should answer with {"version": ...}.';
}
