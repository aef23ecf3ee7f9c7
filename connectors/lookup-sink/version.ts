import { ERPSTREAM_VERSION } from '../../runtime/api/index.js';

/** The version the lookup sink reports (GET /connector-plugins, task status): erpstream's own, from package.json. */
export const LOOKUP_SINK_VERSION = ERPSTREAM_VERSION;
