import type { TransformationPlugin } from '../../runtime/api/index.js';

/** Debezium-compatible SMTs: ExtractNewRecordState, outbox EventRouter. */
export const debeziumTransformPlugins: TransformationPlugin[] = [];
