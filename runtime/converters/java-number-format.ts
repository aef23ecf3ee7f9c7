export * from '../api/java-number-format.js';
