import type { PredicatePlugin, TransformationPlugin } from '../../runtime/api/index.js';
import { dropHeadersPlugin } from './drop-headers.js';
import { filterPlugin } from './filter.js';
import { headerFromPlugins } from './header-from.js';
import { insertHeaderPlugin } from './insert-header.js';
import { hasHeaderKeyPlugin, recordIsTombstonePlugin, topicNameMatchesPlugin } from './predicates.js';
import { regexRouterPlugin } from './regex-router.js';
import { setSchemaMetadataPlugins } from './set-schema-metadata.js';
import { timestampConverterPlugins } from './timestamp-converter.js';
import { timestampRouterPlugin } from './timestamp-router.js';

/** Kafka's record-level SMTs (headers, routing, metadata, timestamps, Filter) and the predicates. */
export const recordTransformPlugins: TransformationPlugin[] = [
  dropHeadersPlugin,
  filterPlugin,
  ...headerFromPlugins,
  insertHeaderPlugin,
  regexRouterPlugin,
  ...setSchemaMetadataPlugins,
  ...timestampConverterPlugins,
  timestampRouterPlugin,
];

export const predicatePlugins: PredicatePlugin[] = [
  topicNameMatchesPlugin,
  hasHeaderKeyPlugin,
  recordIsTombstonePlugin,
];
