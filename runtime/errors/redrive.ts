/**
 * A DLQ record sent back through the pipeline (POST /erpstream/v1/dlq/redrive) goes to its original topic, which
 * other connectors (other customers' sinks) may consume too. It carries the name of the connector it was redriven
 * for, and every other sink task of this runtime skips it, so a redrive reaches exactly one connector.
 */
export const REDRIVE_HEADERS = {
  connector: '__erpstream.redrive.connector',
  /** The audit entry of the redrive, to trace a delivery back to who asked for it. */
  id: '__erpstream.redrive.id',
} as const;

const CONNECTOR_HEADER = Buffer.from(REDRIVE_HEADERS.connector);

/** Whether a consumed record is a redrive meant for another connector than `connector` (then: skip it). */
export function redrivenForOther(headers: ReadonlyArray<readonly [string, Buffer | null]>, connector: string): boolean {
  for (const [k, v] of headers) {
    if (k.length !== CONNECTOR_HEADER.length || k !== REDRIVE_HEADERS.connector) continue;
    return v === null || v.toString('utf8') !== connector;
  }
  return false;
}
