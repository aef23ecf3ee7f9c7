import { mysqlFixture } from './harness.js';
import { defineCaptureSuite } from './capture.suite.js';

defineCaptureSuite('MariaDB (gap tracking)', mysqlFixture, { gapTracking: true });
