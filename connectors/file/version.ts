import { ERPSTREAM_VERSION } from '../../runtime/api/index.js';

/** The version the file and sequence connectors report (GET /connector-plugins). */
export const FILE_CONNECTOR_VERSION = ERPSTREAM_VERSION;
