import type { TransformationPlugin } from '../../runtime/api/index.js';
import { eventRouterPlugin } from './event-router.js';
import { extractNewRecordStatePlugin } from './extract-new-record-state.js';

/** Debezium-compatible SMTs: ExtractNewRecordState, outbox EventRouter. */
export const debeziumTransformPlugins: TransformationPlugin[] = [extractNewRecordStatePlugin, eventRouterPlugin];
