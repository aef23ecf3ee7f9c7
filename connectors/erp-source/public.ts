/**
 * What tools outside the connector (the CLI, the integrations compiler) may use: the settings parser that
 * validates a config exactly as the connector will, and the change-table DDL `erpstream erp init` prints. Anything
 * else in this folder is the connector's own and may change without notice; lint keeps outsiders on this file.
 */
export { type ErpSourceSettings, parseSettings as parseErpSourceSettings } from './config.js';
export { type SetupDialect, type TriggerSpec, changeTableDdl, changeTriggersDdl } from './setup-sql.js';
