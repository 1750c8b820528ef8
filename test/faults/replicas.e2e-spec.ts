import type { INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { OutboxRelay } from '@accounts/mail/outbox';
import type { ApiClient } from '../support/api-client';
import { startStack, type Stack } from '../support/stack';
import { strongPassword, uniqueEmail } from '../support/unique';
import { sleep, waitUntil } from '../support/polling';
import { burst, deliveryReport, eventIdsFor, printReport, waitForDeliveries } from './support/mail-audit';
import { countCompleted, recordPublishes, startApiReplica, startWorkerReplica } from './support/replicas';

/** Two API replicas (two relays) and two mail workers on one PostgreSQL, one Redis, one queue. */
describe('fault 5: several API replicas and several workers share one Redis and PostgreSQL', () => {
  let stack: Stack;
  const apis: ApiClient[] = [];
  const apiApps: NestFastifyApplication[] = [];
  const workers: INestApplication[] = [];
  const published: string[][] = [[], []];
  let completed: Array<{ count: number }>;

  beforeAll(async () => {
    stack = await startStack();
    const second = await startApiReplica(stack);
    apis.push(stack.api, second.api);
    apiApps.push(stack.apiApp, second.app);
    workers.push(stack.worker!, await startWorkerReplica(stack));
    apiApps.forEach((app, i) => recordPublishes(app, published[i]));
    completed = workers.map(countCompleted);
    // Four Nest applications boot here, one after another: more than one stack's time.
  }, 60_000);
  afterAll(async () => {
    await apiApps[1]?.close();
    await workers[1]?.close();
    await stack?.close();
  });

  it('delivers every event exactly once, and no relay publishes an event twice', async () => {
    const sent = await burst(apis, 24, { parallel: 6, label: 'replicas' });
    expect(sent.answers).toEqual({ '201 register': 24, '202 forgot': 24 });
    const all = await eventIdsFor(stack.sql, sent.registered);
    expect(all).toHaveLength(48);
    const report = await waitForDeliveries(stack.sink, all, 30_000);

    const publishes = published.flat().filter((id) => all.includes(id));
    const publishedTwice = publishes.filter((id, i) => publishes.indexOf(id) !== i);
    printReport('2 APIs + 2 workers', report, {
      publishedByApi: published.map((ids) => ids.filter((id) => all.includes(id)).length).join('/'),
      sentByWorker: completed.map((c) => c.count).join('/'),
      publishedTwice: publishedTwice.length,
    });
    expect(report.duplicates).toBe(0);
    expect(publishedTwice).toEqual([]);
    expect(new Set(publishes)).toEqual(new Set(all));
  });

  it('sends nothing twice when a publish is repeated because its "published" mark was lost', async () => {
    const sent = await burst(apis, 3, { label: 'republish' });
    const ids = await eventIdsFor(stack.sql, sent.registered);
    await waitForDeliveries(stack.sink, ids, 20_000);
    await waitUntil(() => completed.reduce((sum, c) => sum + c.count, 0) >= 48 + ids.length, 10_000, 'jobs to complete');

    // As if PostgreSQL had failed between the queue add and the commit that marks the rows.
    const before = published.flat().length;
    await stack.sql(`update outbox set published_at = null where id in (${ids.map(() => '?').join(', ')})`, ids);
    for (const app of apiApps) app.get(OutboxRelay).kick();
    await waitUntil(
      async () => (await stack.sql<{ n: number }>(`select count(*)::int as n from outbox where published_at is null and id in (${ids.map(() => '?').join(', ')})`, ids))[0].n === 0,
      10_000,
      'the relays to publish again',
    );
    expect(published.flat().length - before).toBe(ids.length);
    // Had the queue taken the repeated adds as new jobs, the workers would send within milliseconds.
    await sleep(1_500);
    const report = deliveryReport(stack.sink, ids);
    printReport('publish repeated after a lost commit', report, { republished: ids.length });
    expect(report.duplicates).toBe(0);
  });

  it('keeps one account when the same address registers on both replicas at once', async () => {
    const email = uniqueEmail('twin');
    const answers = await Promise.all(apis.map((api) => api.post('/auth/register', { email, password: strongPassword() })));
    expect(answers.map((a) => a.status).sort()).toEqual([201, 409]);
    const [{ n }] = await stack.sql<{ n: number }>('select count(*)::int as n from users where email_canonical = ?', [email]);
    expect(n).toBe(1);
    expect(await eventIdsFor(stack.sql, [email])).toHaveLength(1);
  });
});
