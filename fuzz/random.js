'use strict';
// Seeded randomness for the fuzzers (fuzz/memory.js, fuzz/modules.js):
// mulberry32 streams, one independent stream per iteration, so iteration I
// of seed S is a pure function of (S, I) and replays alone.

/** A mulberry32 generator of floats in [0, 1) from a 32-bit state. */
function mulberry32(state) {
  let a = state >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mixes the run's seed and an iteration number into the iteration's seed. */
function iterationSeed(seed, iteration) {
  let h = (seed ^ Math.imul(iteration + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= Math.imul((iteration / 4294967296) | 0, 0x27d4eb2f);
  return (h ^ (h >>> 16)) >>> 0;
}

module.exports = { mulberry32, iterationSeed };
