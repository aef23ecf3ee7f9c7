import { readFileSync } from 'node:fs';
import { Module, createRequire } from 'node:module';
import path from 'node:path';
import { type DecodedRecord, kafkajsRecordBatchDecoder } from '../../runtime/kafka/kafkajs-record-batches.js';

/** The two record batch decoders side by side (the differential test and `bench/fetch-decode.ts`). */

const require = createRequire(import.meta.url);

export type KafkajsDecoder = { buffer: Buffer; offset: number; canReadBytes(n: number): boolean };
export type BatchDecoder = (d: KafkajsDecoder) => Promise<{ records: DecodedRecord[] } & Record<string, unknown>>;

/** kafkajs's Decoder over `bytes`, as its fetch response parser makes one. */
export const KafkajsDecoder = require('kafkajs/src/protocol/decoder.js') as new (bytes: Buffer) => KafkajsDecoder;
export const { KafkaJSPartialMessageError } = require('kafkajs/src/errors.js') as {
  KafkaJSPartialMessageError: new (message: string) => Error;
};

/** kafkajs's own batch decoder, evaluated afresh from its file: the module cache holds ours once runtime/kafka loaded. */
export function kafkajsBatchDecoder(): BatchDecoder {
  const file = require.resolve('kafkajs/src/protocol/recordBatch/v0/decoder.js');
  const m = new Module(file) as Module & { _compile(code: string, file: string): void; paths: string[] };
  m.filename = file;
  m.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.dirname(file));
  m._compile(readFileSync(file, 'utf8'), file);
  return m.exports as BatchDecoder;
}

/** The runtime's decoder, as useFastRecordBatches() puts it in kafkajs's place. */
export function runtimeBatchDecoder(): BatchDecoder {
  return kafkajsRecordBatchDecoder() as unknown as BatchDecoder;
}
