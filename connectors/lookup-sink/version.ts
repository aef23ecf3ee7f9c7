export const LOOKUP_SINK_VERSION = '0.1.0';
