import type { TransformationPlugin } from '../../runtime/api/index.js';

/** erpstream's own SMTs: CleanSchema, TranslateCodes, AttachVersion, CorrelationKey, DomainRouter. */
export const erpTransformPlugins: TransformationPlugin[] = [];
