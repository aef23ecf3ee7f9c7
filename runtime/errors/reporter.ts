import type { ConnectRecord, Logger, SinkRecord, SourceRecord } from '../api/index.js';
import type { OutRecord, ProducerPort, RawHeaders } from '../kafka/producer-port.js';
import { type DlqContext, errorContextHeaders } from './dlq.js';
import { type ErrorHandlingConfig, type ProcessingFailure, ToleranceExceededError } from './retry.js';

/** What a failed operation was working on, for the log line and the DLQ record. */
export interface FailureContext {
  /** Sink side: the consumed record as it came from Kafka (the DLQ gets these exact bytes). */
  consumed?: {
    topic: string;
    partition: number;
    offset: bigint;
    key: Buffer | null;
    value: Buffer | null;
    headers: RawHeaders;
    timestamp: number;
  };
  /** Source side: the record as the task produced it (before transforms). */
  source?: SourceRecord;
  /** Source side: bytes for the DLQ (computed lazily: the converters may be what failed). */
  sourceBytes?: () => Promise<{ key: Buffer | null; value: Buffer | null; headers: RawHeaders }>;
  /** The record being processed when it failed (for errors.log.include.messages). */
  record?: ConnectRecord;
}

export interface DlqSettings {
  topic: string;
  contextHeaders: boolean;
}

/** Log and dead-letter reporting (Connect's LogReporter + DeadLetterQueueReporter). */
export class ErrorReporter {
  dlqCount = 0;

  constructor(
    private readonly ctx: DlqContext,
    private readonly config: ErrorHandlingConfig,
    private readonly logger: Logger,
    private readonly dlq: { settings: DlqSettings; producer: () => Promise<ProducerPort> } | null,
  ) {}

  async report(failure: ProcessingFailure, where: FailureContext, tolerated: boolean): Promise<void> {
    if (this.config.logEnable) {
      this.logger.error(
        `Error encountered in task ${this.ctx.connector}-${this.ctx.task}. Executing stage '${failure.stage}' with class '${failure.className}'${describeWhere(where, this.config.logIncludeMessages)}.`,
        { stage: failure.stage, class: failure.className, error: failure.error, attempts: failure.attempts },
      );
    }
    if (!tolerated || !this.dlq) return;
    const record = await this.dlqRecord(failure, where);
    if (!record) return;
    const producer = await this.dlq.producer();
    await producer.send([record]);
    this.dlqCount++;
  }

  private async dlqRecord(failure: ProcessingFailure, where: FailureContext): Promise<OutRecord | null> {
    const settings = this.dlq!.settings;
    let key: Buffer | null;
    let value: Buffer | null;
    let headers: RawHeaders;
    let timestamp: number | null;
    if (where.consumed) {
      ({ key, value, headers, timestamp } = where.consumed);
    } else if (where.sourceBytes) {
      ({ key, value, headers } = await where.sourceBytes());
      timestamp = where.source?.timestamp ?? null;
    } else {
      return null;
    }
    const context = settings.contextHeaders
      ? errorContextHeaders(this.ctx, failure, {
          ...(where.consumed
            ? {
                consumed: {
                  topic: where.consumed.topic,
                  partition: where.consumed.partition,
                  offset: where.consumed.offset,
                },
              }
            : {}),
          ...(where.source ? { source: where.source } : {}),
        })
      : [];
    return { topic: settings.topic, partition: null, key, value, headers: [...headers, ...context], timestamp };
  }

  /** KIP-610 ErrantRecordReporter for sink tasks: a record the task itself rejected. */
  errantRecordReporter(
    find: (record: SinkRecord) => Promise<FailureContext['consumed']> | undefined,
    className: string,
  ): { report(record: SinkRecord, error: Error): Promise<void> } {
    return {
      report: async (record, error) => {
        const consumed = await find(record);
        const failure: ProcessingFailure = { stage: 'TASK_PUT', className, error, attempts: 1 };
        const tolerated = this.config.tolerance === 'all';
        await this.report(failure, { ...(consumed ? { consumed } : {}), record }, tolerated);
        // As in Connect, reporting an errant record with errors.tolerance=none fails the task.
        if (!tolerated) throw new ToleranceExceededError('TASK_PUT', error);
      },
    };
  }
}

function describeWhere(where: FailureContext, includeMessages: boolean): string {
  if (where.consumed) {
    const c = where.consumed;
    return `, where consumed record is {topic='${c.topic}', partition=${c.partition}, offset=${c.offset}, timestamp=${c.timestamp}}`;
  }
  if (where.source && includeMessages) {
    const s = where.source;
    return `, where source record is {topic='${s.topic}', sourcePartition=${JSON.stringify(s.sourcePartition)}, sourceOffset=${JSON.stringify(s.sourceOffset)}}`;
  }
  return '';
}
