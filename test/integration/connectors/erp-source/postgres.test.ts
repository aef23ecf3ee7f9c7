import { pgFixture } from './harness.js';
import { defineCaptureSuite } from './capture.suite.js';

defineCaptureSuite('PostgreSQL (transaction watermark)', pgFixture, { gapTracking: false });
