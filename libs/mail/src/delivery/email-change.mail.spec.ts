import { randomBytes } from 'node:crypto';
import { PayloadSealError, PayloadSealer } from '../contract';
import { MailComposer } from './mail.composer';
import { MailRenderer } from './mail.renderer';

/** The three mails of an email change (SPEC §10), composed as the worker composes them. */
describe('email change mails', () => {
  const sealer = new PayloadSealer({ key: randomBytes(32) });
  const app = { runtime: 'test' as const, isProduction: false, name: 'Accounts', url: 'https://example.com/accounts', logLevel: 'info' as const };
  const composer = new MailComposer(app, sealer, new MailRenderer());
  const newAddress = { v: 1 as const, userId: 'u1', email: 'new@example.com', name: null };
  const oldAddress = { v: 1 as const, userId: 'u1', email: 'old@example.com', name: 'Ann' };

  it('email.change-requested: the new address gets a confirmation link under APP_URL, in both parts', () => {
    const changeToken = sealer.seal('change/tok+en', { eventId: 'e1', ...newAddress });
    const mail = composer.compose('email.change-requested', { ...newAddress, changeToken }, 'e1');
    expect(mail.to).toBe('new@example.com');
    expect(mail.subject).toBe('Confirm your new email address for Accounts');
    expect(mail.text).toContain('https://example.com/accounts/confirm-email-change?token=change%2Ftok%2Ben');
    expect(mail.html).toContain('href="https://example.com/accounts/confirm-email-change?token=change%2Ftok%2Ben"');
    expect(mail.text).toMatch(/^Hello,/);
  });

  it('email.change-requested: a job redirected to another address cannot open its token', () => {
    const changeToken = sealer.seal('token', { eventId: 'e1', ...newAddress });
    expect(() => composer.compose('email.change-requested', { ...newAddress, email: 'eve@example.com', changeToken }, 'e1')).toThrow(PayloadSealError);
  });

  it('email.change-attempted: the owner of the taken address gets a notice without any link', () => {
    const mail = composer.compose('email.change-attempted', { ...oldAddress, email: 'taken@example.com' }, 'e2');
    expect(mail.to).toBe('taken@example.com');
    expect(mail.subject).toBe('Someone tried to move an account to your Accounts address');
    expect(mail.text).toContain('nothing was changed');
    // Only the layout's footer names the product's address; no button, no token.
    expect(mail.text.match(/https?:\/\/\S+/g)).toEqual(['https://example.com/accounts']);
    expect(mail.html.match(/href="[^"]*"/g)).toEqual(['href="https://example.com/accounts"']);
  });

  it('email.changed: the old address gets the undo link, greeted by name', () => {
    const undoToken = sealer.seal('undo-token', { eventId: 'e3', ...oldAddress });
    const mail = composer.compose('email.changed', { ...oldAddress, undoToken }, 'e3');
    expect(mail.to).toBe('old@example.com');
    expect(mail.subject).toBe('The email address of your Accounts account was changed');
    expect(mail.text).toMatch(/^Hi Ann,/);
    expect(mail.text).toContain('Undo the change:\nhttps://example.com/accounts/undo-email-change?token=undo-token');
    expect(() => composer.compose('email.changed', { ...oldAddress, email: 'new@example.com', undoToken }, 'e3')).toThrow(PayloadSealError);
  });
});
