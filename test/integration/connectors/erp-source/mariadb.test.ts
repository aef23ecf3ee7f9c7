import { mysqlFixture } from './harness.js';
import { defineCaptureSuite } from './capture.suite.js';
import { defineOutboxDeleteSuite } from './outbox-delete.suite.js';
import { defineSchemaEvolutionSuite } from './schema-evolution.suite.js';

defineCaptureSuite('MariaDB (gap tracking)', mysqlFixture, { gapTracking: true });
defineOutboxDeleteSuite('MariaDB', () => mysqlFixture());
defineSchemaEvolutionSuite('MariaDB', () => mysqlFixture());
