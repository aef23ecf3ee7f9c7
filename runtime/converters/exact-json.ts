export * from '../api/exact-json.js';
