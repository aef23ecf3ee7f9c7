import { randomUUID } from 'node:crypto';
import type { Logger } from '../api/index.js';

/** What an operation did, for the operations audit log (contracts: i16b's `GET /erpstream/v1/operations`). */
export interface OpsAuditEntry {
  kind: 'redrive';
  customer: string;
  connector: string;
  /** The authenticated REST user, or `anonymous` when the worker has no REST auth. */
  who: string;
  startedAt: string;
  finishedAt: string;
  scope: Record<string, unknown>;
  counts: Record<string, number>;
  result: 'ok' | 'partial' | 'failed';
}

/**
 * Records an audit entry and returns its id. The one place the redrive writes its audit entry: until the shared
 * operations audit log is merged (issue 16) it goes to the worker log as a structured `audit` line.
 */
export async function recordAudit(logger: Logger, entry: OpsAuditEntry): Promise<string> {
  const id = randomUUID();
  logger.info('audit', { audit: { id, ...entry } });
  return id;
}
