import { Admin, FetchIsolationLevels } from '@platformatic/kafka';
import { parseBrokers } from './client.js';

/**
 * High watermarks (read_uncommitted end offsets) of a topic's partitions. kafkajs only lists read_committed end
 * offsets (the last stable offset), which stops short of every record written after the first transaction still
 * open in a partition — including records of transactions that already committed.
 */
export class HighWatermarks {
  private admin: Admin | null = null;

  constructor(
    private readonly brokers: string[] | string,
    private readonly clientId: string,
  ) {}

  async of(topic: string, partitions: readonly number[]): Promise<Map<number, bigint>> {
    this.admin ??= new Admin({ clientId: this.clientId, bootstrapBrokers: parseBrokers(this.brokers) });
    const listed = await this.admin.listOffsets({
      topics: [{ name: topic, partitions: partitions.map((p) => ({ partitionIndex: p, timestamp: -1n })) }],
      isolationLevel: FetchIsolationLevels.READ_UNCOMMITTED,
    });
    const out = new Map<number, bigint>();
    for (const t of listed) for (const p of t.partitions) out.set(p.partitionIndex, p.offset);
    return out;
  }

  async close(): Promise<void> {
    const a = this.admin;
    this.admin = null;
    await a?.close();
  }
}
