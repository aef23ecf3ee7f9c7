/** The version the file and sequence connectors report (GET /connector-plugins). */
export const FILE_CONNECTOR_VERSION = '0.1.0';
