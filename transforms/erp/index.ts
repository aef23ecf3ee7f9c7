import type { TransformationPlugin } from '../../runtime/api/index.js';
import { attachVersionPlugin } from './attach-version.js';
import { cleanSchemaPlugin } from './clean-schema.js';
import { correlationKeyPlugin } from './correlation-key.js';
import { domainRouterPlugin } from './domain-router.js';
import { translateCodesPlugin } from './translate-codes.js';

/** erpstream's own SMTs: CleanSchema, TranslateCodes, AttachVersion, CorrelationKey, DomainRouter. */
export const erpTransformPlugins: TransformationPlugin[] = [
  cleanSchemaPlugin,
  translateCodesPlugin,
  attachVersionPlugin,
  correlationKeyPlugin,
  domainRouterPlugin,
];
