'use strict';
// Runs a child process for a test, so that a crash or a hang is a failed
// test rather than a dead runner.
const { spawn } = require('node:child_process');

/**
 * Spawns `command args`, collects its output, and kills it after
 * `timeoutMs` (in environment `env`, by default this process's). Resolves with { status, signal, timedOut, stdout, stderr, ms,
 * result }, where `result` is the JSON after a `RESULT ` line, if any.
 */
function spawnCollect(command, args, timeoutMs, env = process.env) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (chunk) => { stdout += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk) => { stderr += chunk; });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
      resolve({
        status, signal, timedOut, stdout, stderr, ms: Date.now() - started,
        result: line === undefined ? undefined : JSON.parse(line.slice('RESULT '.length)),
      });
    });
  });
}

module.exports = { spawnCollect };
