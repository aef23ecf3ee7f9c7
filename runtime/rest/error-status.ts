import { type ErrorCode, LeaderRefusedError, isErrorCode } from '../api/index.js';

/**
 * The REST edge's one mapping from error codes to HTTP statuses (Connect's ConnectExceptionMapper): the runtime
 * raises domain errors and never picks a status. A code not listed answers 500, as Connect answers an exception it
 * has no mapping for.
 */
export const HTTP_STATUS_BY_CODE: Readonly<Partial<Record<ErrorCode, number>>> = {
  ERPSTREAM_CONFIG: 400,
  ERPSTREAM_PLUGIN_NOT_FOUND: 400,
  ERPSTREAM_INVALID_REQUEST: 400,
  ERPSTREAM_REDELIVERY_REFUSED: 400,
  ERPSTREAM_FEATURE_DISABLED: 403,
  ERPSTREAM_NOT_FOUND: 404,
  ERPSTREAM_ALREADY_EXISTS: 409,
  // Clients retry a 409 (Connect's answer during a rebalance).
  ERPSTREAM_REBALANCE_IN_PROGRESS: 409,
  ERPSTREAM_NOT_SUPPORTED: 501,
  // Connect 4.x answers 400 for an unknown connector.class on create and config PUT (3.9 answered 500); its
  // validate endpoint still answers 500 (a BadRequestException wrapped as a server error), ours 400 throughout.
  ERPSTREAM_CONNECTOR_CLASS_UNKNOWN: 400,
};

/** The status a domain error answers, or undefined when its code has no mapping (the caller decides). */
export function httpStatusOf(e: unknown): number | undefined {
  // A forwarded request keeps the leader's answer: the leader already mapped the error's code.
  if (e instanceof LeaderRefusedError) return e.leaderStatus;
  // By code, not class: an error that crossed a module copy or a worker boundary keeps its code.
  const code = (e as { code?: unknown } | null)?.code;
  return isErrorCode(code) ? HTTP_STATUS_BY_CODE[code] : undefined;
}
