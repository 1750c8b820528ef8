import { randomBytes } from 'node:crypto';
import { PayloadSealError, PayloadSealer } from '../contract';
import { MailComposer, MalformedEventError, UnsupportedEventVersionError } from './mail.composer';
import { MailRenderer } from './mail.renderer';

describe('MailComposer', () => {
  const sealer = new PayloadSealer({ key: randomBytes(32) });
  const app = { runtime: 'test' as const, isProduction: false, name: 'Accounts', url: 'https://example.com/accounts', logLevel: 'info' as const };
  const composer = new MailComposer(app, sealer, new MailRenderer());
  const recipient = { v: 1 as const, userId: 'u1', email: 'ann@example.com', name: null };

  it('builds links under APP_URL, including its path, with the token opened for this event', () => {
    const mail = composer.compose('password.reset-requested', { ...recipient, resetToken: sealer.seal('tok/en+=', { eventId: 'event-1', ...recipient }) }, 'event-1');
    expect(mail.to).toBe('ann@example.com');
    expect(mail.text).toContain('https://example.com/accounts/reset-password?token=tok%2Fen%2B%3D');
  });

  it('refuses a token sealed for another event', () => {
    const payload = { ...recipient, resetToken: sealer.seal('token', { eventId: 'event-1', ...recipient }) };
    expect(() => composer.compose('password.reset-requested', payload, 'event-2')).toThrow(PayloadSealError);
  });

  it('refuses a token whose event was redirected to another recipient or user', () => {
    const resetToken = sealer.seal('token', { eventId: 'event-1', ...recipient });
    expect(() => composer.compose('password.reset-requested', { ...recipient, email: 'eve@example.com', resetToken }, 'event-1')).toThrow(PayloadSealError);
    expect(() => composer.compose('password.reset-requested', { ...recipient, userId: 'u2', resetToken }, 'event-1')).toThrow(PayloadSealError);
  });

  it('sends the MFA notices with links under APP_URL, the remaining recovery codes counted, and no code', () => {
    const enabled = composer.compose('mfa.enabled', { ...recipient }, 'e');
    expect(enabled.subject).toBe('Two-step sign-in is on for your Accounts account');
    expect(enabled.text).toContain('https://example.com/accounts/forgot-password');
    const disabled = composer.compose('mfa.disabled', { ...recipient }, 'e');
    expect(disabled.subject).toBe('Two-step sign-in is off for your Accounts account');
    expect(disabled.html).toContain('href="https://example.com/accounts/account"');
    const used = composer.compose('mfa.recovery-code-used', { ...recipient, remaining: 7 }, 'e');
    expect(used.subject).toBe('A recovery code was used to sign in to Accounts');
    expect(used.text).toContain('You have 7 unused recovery codes left');
    const last = composer.compose('mfa.recovery-code-used', { ...recipient, remaining: 0 }, 'e');
    expect(last.text).toContain('You have no unused recovery codes left');
  });

  it('tells the owner which provider was linked, where to remove it and how to lock an intruder out', () => {
    const mail = composer.compose('identity.linked', { ...recipient, provider: 'Corp <SSO>' }, 'e');
    expect(mail.subject).toBe('Corp <SSO> can now sign you in to Accounts');
    expect(mail.text).toContain('signed in with Corp <SSO> using the address ann@example.com');
    expect(mail.text).toContain('https://example.com/accounts/account');
    expect(mail.text).toContain('https://example.com/accounts/forgot-password');
    expect(mail.html).toContain('Corp &lt;SSO&gt;');
    expect(mail.html).not.toContain('Corp <SSO>');
  });

  it('greets by name, and neutrally when the name is missing or blank', () => {
    const named = composer.compose('password.changed', { ...recipient, name: 'Ann', via: 'change' }, 'e');
    const blank = composer.compose('password.changed', { ...recipient, name: '  ', via: 'change' }, 'e');
    expect(named.text).toMatch(/^Hi Ann,/);
    expect(blank.text).toMatch(/^Hello,/);
  });

  it('refuses a recipient that is not exactly one address', () => {
    // The same rule the API applies to an address (NUL and lone surrogates included): one source, no drift.
    for (const email of ['ann@example.com, eve@example.com', 'Eve <eve@example.com>', 'ann@example.com\r\nBcc: eve@example.com', 'nobody', 'ann\u0000@example.com', 'ann\ud800@example.com']) {
      expect(() => composer.compose('password.changed', { ...recipient, email, via: 'change' }, 'e')).toThrow(MalformedEventError);
    }
  });

  it('tells the address of a deleted account, with a way to register again and no link into the gone account', () => {
    const mail = composer.compose('user.deleted', { ...recipient, name: null }, 'e');
    expect(mail.to).toBe('ann@example.com');
    expect(mail.subject).toBe('Your Accounts account was deleted');
    expect(mail.text).toContain('ann@example.com was just deleted');
    expect(mail.text).toContain('https://example.com/accounts/register');
    expect(mail.html).toContain('href="https://example.com/accounts/register"');
    expect(mail.text).not.toMatch(/token=/);
  });

  it('leaves a payload version it does not know to a newer worker', () => {
    const payload = { ...recipient, v: 2, via: 'change' } as unknown as Parameters<typeof composer.compose<'password.changed'>>[1];
    expect(() => composer.compose('password.changed', payload, 'e')).toThrow(UnsupportedEventVersionError);
  });
});
