'use strict';
// The fuzzers' command lines (fuzz/memory.js, fuzz/modules.js): `--flag
// value` or `--flag=value`, whole numbers checked once, and one usage text
// that every mistake prints before exiting with status 2.

/**
 * Returns `{ usage, parse }` for a fuzzer whose usage line is `text`.
 * `parse(argv, onFlag)` calls `onFlag(flag, value, numeric)` for each
 * argument: `value()` takes the flag's value, `numeric()` takes it as a
 * non-negative integer; `onFlag` returns false for a flag it does not know.
 */
function commandLine(text) {
  function usage(problem) {
    if (problem) console.error(problem);
    console.error(text);
    process.exit(problem ? 2 : 0);
  }
  function parse(argv, onFlag) {
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i];
      const [flag, inline] = arg.includes('=') ? arg.split(/=(.*)/s) : [arg, undefined];
      const value = () => (inline !== undefined ? inline : argv[++i]);
      const numeric = () => {
        const raw = value();
        const n = Number(raw);
        if (!Number.isInteger(n) || n < 0) usage(`${flag} must be a non-negative integer, got ${raw}`);
        return n;
      };
      if (flag === '--help') usage();
      else if (!onFlag(flag, value, numeric)) usage(`unknown argument ${arg}`);
    }
  }
  return { usage, parse };
}

module.exports = { commandLine };
