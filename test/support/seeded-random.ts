/**
 * A seeded generator of floats in [0, 1) (mulberry32, the demo simulator's): the randomized tests replay a failure
 * from its seed alone, so every one of them draws from this, never from Math.random.
 */
export { prng as seededRandom } from '../../cli/demo/erp/simulator.js';
