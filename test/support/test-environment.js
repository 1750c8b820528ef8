// jest's Node environment, plus: the JSON log lines that the apps under test write to this process's
// stdout go to test/artifacts/logs/<spec path>.log instead of the terminal, so a green run reads as
// one (the fault tests make the apps log errors on purpose). Everything else written to stdout, a
// fault test's "[fault]" report for one, stays on the terminal, and a test that captures stdout
// (StdoutCapture) still sees every line.
'use strict';
const { createWriteStream, mkdirSync } = require('node:fs');
const path = require('node:path');
const { TestEnvironment } = require('jest-environment-node');

const ROOT = path.join(__dirname, '..', '..');
const LOGS = path.join(ROOT, 'test', 'artifacts', 'logs');

class TestEnvironmentWithLogFiles extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.logFile = path.join(LOGS, `${path.relative(ROOT, context.testPath)}.log`);
  }

  async setup() {
    await super.setup();
    mkdirSync(path.dirname(this.logFile), { recursive: true });
    const log = createWriteStream(this.logFile);
    const original = process.stdout.write;
    process.stdout.write = function writeLogLinesToFile(chunk, ...rest) {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      if (!text.startsWith('{')) return original.call(this, chunk, ...rest);
      const done = rest.find((arg) => typeof arg === 'function');
      return log.write(chunk, done);
    };
    this.stopLogging = () =>
      new Promise((resolve) => {
        process.stdout.write = original;
        log.end(resolve);
      });
  }

  async teardown() {
    await this.stopLogging?.();
    await super.teardown();
  }
}

module.exports = TestEnvironmentWithLogFiles;
