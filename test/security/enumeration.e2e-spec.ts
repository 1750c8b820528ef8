import { expectDocumentedResponses } from '../support/openapi-contract';
import { performance } from 'node:perf_hooks';
import type { ApiResponse } from '../support/api-client';
import { createAccount, observable, pairedMedians } from '../support/security';
import { startStack, type Stack } from '../support/stack';
import { strongPassword, uniqueEmail } from '../support/unique';

/**
 * Account enumeration (ASVS 5.0 V6.3.8, OWASP Authentication and Forgot Password cheat sheets):
 * an attacker who can tell a registered address from an unknown one by the answer's status, body,
 * headers or timing has a list of targets. Confirmation is on, so register must not tell either.
 */
describe('security: account enumeration', () => {
  let stack: Stack;
  beforeAll(async () => {
    // No worker: the answers are the subject here, and a busy worker only adds timing noise.
    stack = await startStack({ env: { EMAIL_CONFIRMATION_REQUIRED: 'true' }, withoutWorker: true });
  });
  afterAll(async () => {
    await expectDocumentedResponses(stack);
    await stack.close();
  });

  function expectIndistinguishable(responses: Record<string, ApiResponse>): void {
    const [[firstLabel, first], ...rest] = Object.entries(responses);
    for (const [label, response] of rest) {
      expect({ [label]: observable(response) }).toEqual({ [label]: observable(first) });
    }
    expect(firstLabel).toBeDefined();
  }

  it('login: a wrong password and an unknown address get the same status, body and headers', async () => {
    const confirmed = await createAccount(stack, { label: 'enum-login' });
    const unconfirmed = await createAccount(stack, { label: 'enum-login-unconf', confirmed: false });
    const answers = {
      unknown: await stack.api.post('/auth/login', { email: uniqueEmail('enum-nobody'), password: strongPassword() }),
      wrongPasswordConfirmed: await stack.api.post('/auth/login', { email: confirmed.email, password: strongPassword() }),
      // Unconfirmed accounts only say so after a correct password.
      wrongPasswordUnconfirmed: await stack.api.post('/auth/login', { email: unconfirmed.email, password: strongPassword() }),
    };
    expect(answers.unknown.status).toBe(401);
    expect(answers.unknown.body.code).toBe('INVALID_CREDENTIALS');
    expectIndistinguishable(answers);
  });

  it('forgot-password: known and unknown addresses get the same status, body and headers', async () => {
    const known = await createAccount(stack, { label: 'enum-forgot' });
    const unconfirmed = await createAccount(stack, { label: 'enum-forgot-unconf', confirmed: false });
    const answers = {
      unknown: await stack.api.post('/auth/password/forgot', { email: uniqueEmail('enum-nobody') }),
      known: await stack.api.post('/auth/password/forgot', { email: known.email }),
      knownOtherCase: await stack.api.post('/auth/password/forgot', { email: ` ${known.email.toUpperCase()} ` }),
      unconfirmed: await stack.api.post('/auth/password/forgot', { email: unconfirmed.email }),
    };
    expect(answers.unknown.status).toBe(202);
    expect(answers.unknown.body).toEqual({ status: 'accepted' });
    expectIndistinguishable(answers);
  });

  it('resend-confirmation: unconfirmed, confirmed and unknown addresses get the same status, body and headers', async () => {
    const confirmed = await createAccount(stack, { label: 'enum-resend' });
    const unconfirmed = await createAccount(stack, { label: 'enum-resend-unconf', confirmed: false });
    const answers = {
      unknown: await stack.api.post('/auth/email/resend', { email: uniqueEmail('enum-nobody') }),
      confirmed: await stack.api.post('/auth/email/resend', { email: confirmed.email }),
      unconfirmed: await stack.api.post('/auth/email/resend', { email: unconfirmed.email }),
    };
    expect(answers.unknown.status).toBe(202);
    expect(answers.unknown.body).toEqual({ status: 'accepted' });
    expectIndistinguishable(answers);
  });

  it('register (confirmation on): new, taken-confirmed and taken-unconfirmed addresses get the same status, body and headers', async () => {
    const confirmed = await createAccount(stack, { label: 'enum-reg' });
    const unconfirmed = await createAccount(stack, { label: 'enum-reg-unconf', confirmed: false });
    const answers = {
      fresh: await stack.api.post('/auth/register', { email: uniqueEmail('enum-new'), password: strongPassword(), name: 'Eve' }),
      takenConfirmed: await stack.api.post('/auth/register', { email: confirmed.email, password: strongPassword(), name: 'Eve' }),
      takenConfirmedOtherCase: await stack.api.post('/auth/register', {
        email: confirmed.email.toUpperCase(),
        password: strongPassword(),
        name: 'Eve',
      }),
      takenUnconfirmed: await stack.api.post('/auth/register', { email: unconfirmed.email, password: strongPassword(), name: 'Eve' }),
    };
    expect(answers.fresh.status).toBe(202);
    expect(answers.fresh.body).toEqual({ status: 'confirmation_required' });
    expectIndistinguishable(answers);
    // And the attempt changed nothing about the owner's account.
    const [row] = await stack.sql<{ name: string | null }>('select name from users where email_canonical = ?', [confirmed.email]);
    expect(row.name).toBeNull();
  });

  /**
   * Timing (OWASP Authentication and Forgot Password cheat sheets): interleaved pairs in random
   * order after a warm-up, so drift and bursts of load hit both sides alike, and medians, which
   * ignore the odd stall. The tolerance is max(floor, half the larger median). For login and
   * register the floor is 10 ms: medians of equal work differ by 1-2 ms on a busy 2-core machine,
   * while the classic leak, one side skipping the argon2 hash (~15-20 ms with the default
   * parameters), differs by more. Forgot-password hashes nothing; its known path legitimately
   * writes a token and an event (a few ms more), so its floor is 25 ms, which still catches gross
   * leaks such as mail sent inside the request.
   */

  function expectSimilar(result: { known: number; unknown: number }, floorMs: number) {
    const larger = Math.max(result.known, result.unknown);
    const tolerance = Math.max(floorMs, 0.5 * larger);
    const difference = Math.abs(result.known - result.unknown);
    expect({ ...result, difference: Math.round(difference), withinTolerance: difference < tolerance, tolerance: Math.round(tolerance) }).toMatchObject({
      withinTolerance: true,
    });
  }

  it('login takes as long for an unknown address as for a wrong password (medians of 30 interleaved pairs)', async () => {
    const account = await createAccount(stack, { label: 'enum-timing' });
    const result = await pairedMedians(
      5,
      30,
      () => stack.api.post('/auth/login', { email: account.email, password: strongPassword() }),
      () => stack.api.post('/auth/login', { email: uniqueEmail('enum-timing-nobody'), password: strongPassword() }),
    );
    expect(result.statuses).toEqual({ known: [401], unknown: [401] });
    expectSimilar(result, 10);
  });

  it('forgot-password takes as long for an unknown address as for a known one (medians of 30 interleaved pairs)', async () => {
    const account = await createAccount(stack, { label: 'enum-timing-forgot' });
    const result = await pairedMedians(
      5,
      30,
      () => stack.api.post('/auth/password/forgot', { email: account.email }),
      () => stack.api.post('/auth/password/forgot', { email: uniqueEmail('enum-timing-nobody') }),
    );
    expect(result.statuses).toEqual({ known: [202], unknown: [202] });
    expectSimilar(result, 25);
  });

  it('register takes as long for a taken address as for a new one (medians of 30 interleaved pairs)', async () => {
    const account = await createAccount(stack, { label: 'enum-timing-reg' });
    const result = await pairedMedians(
      5,
      30,
      () => stack.api.post('/auth/register', { email: account.email, password: strongPassword() }),
      () => stack.api.post('/auth/register', { email: uniqueEmail('enum-timing-new'), password: strongPassword() }),
    );
    expect(result.statuses).toEqual({ known: [202], unknown: [202] });
    expectSimilar(result, 10);
  });
});
