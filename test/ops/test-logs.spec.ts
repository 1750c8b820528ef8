import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { waitUntil } from '../support/polling';

const ROOT = join(__dirname, '..', '..');

/** A test run's terminal shows the tests, not the apps' JSON logs: those go to test/artifacts/logs/. */
describe('ops: log lines of the apps under test go to a file per spec', () => {
  it("writes a JSON log line to test/artifacts/logs/<spec>.log, not to the terminal", async () => {
    const line = JSON.stringify({ level: 'error', msg: `test log line ${process.pid}-${Date.now()}` });
    process.stdout.write(`${line}\n`);
    const file = join(ROOT, 'test', 'artifacts', 'logs', `${relative(ROOT, __filename)}.log`);
    let content = '';
    await waitUntil(async () => {
      content = await readFile(file, 'utf8').catch(() => '');
      return content.includes(line);
    }, 5_000, 'the line in the log file');
    expect(content.split('\n')).toContain(line);
  });
});
