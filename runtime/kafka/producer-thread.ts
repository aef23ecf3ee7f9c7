import { parentPort, workerData } from 'node:worker_threads';
import { RecordProducer, type RecordProducerOptions } from './record-producer.js';
import { type FromThread, type PackedRecords, toThreadError, unpack } from './threaded-producer.js';

/**
 * The thread behind ThreadedRecordProducer: one RecordProducer, driven by the messages of its owner, in order.
 * Sends are handed to the producer as they arrive (it keeps them one at a time and in order); acks go back as two
 * transferred arrays, partitions and offsets, in record order.
 */
const port = parentPort!;
const options = workerData as RecordProducerOptions;
let producer: Promise<RecordProducer> | null = null;

type Message = { id: number } & ({ type: 'connect' } | { type: 'close' } | ({ type: 'send' } & PackedRecords));

function reply(id: number, work: () => Promise<unknown>, transfer: (v: unknown) => ArrayBuffer[] = () => []): void {
  work().then(
    (value) => port.postMessage({ id, value } satisfies FromThread, transfer(value)),
    (e: unknown) => port.postMessage({ id, error: toThreadError(e) } satisfies FromThread),
  );
}

port.on('message', (m: Message) => {
  switch (m.type) {
    case 'connect':
      producer = RecordProducer.connect(options);
      reply(m.id, async () => {
        await producer;
      });
      break;
    case 'send': {
      const records = unpack(m);
      const p = producer!;
      reply(
        m.id,
        async () => {
          const acks = await (await p).send(records);
          const partitions = new Int32Array(acks.length);
          const offsets = new BigInt64Array(acks.length);
          for (let i = 0; i < acks.length; i++) {
            partitions[i] = acks[i]!.partition;
            offsets[i] = acks[i]!.offset;
          }
          return { partitions, offsets };
        },
        (v) => {
          const { partitions, offsets } = v as {
            partitions: Int32Array<ArrayBuffer>;
            offsets: BigInt64Array<ArrayBuffer>;
          };
          return [partitions.buffer, offsets.buffer];
        },
      );
      break;
    }
    case 'close':
      reply(m.id, async () => {
        // The owner ends the thread once this reply arrives (closing the port here would drop the reply).
        await (await producer)?.close();
      });
      break;
  }
});
