import type { OperationsLog } from '../operations/audit-log.js';
import { HttpError } from './http-error.js';

/** The operations audit log of a request; a worker without one refuses operations it could not audit. */
export function auditLogOf(log: OperationsLog | undefined): OperationsLog {
  if (!log) throw new HttpError(503, 'This worker has no operations audit log; the operation cannot be audited');
  return log;
}
