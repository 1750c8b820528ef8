import { MailRenderer, type TemplateContext } from './mail.renderer';

describe('MailRenderer', () => {
  const renderer = new MailRenderer();
  const base: TemplateContext = { appName: 'Accounts', appUrl: 'https://accounts.example', name: null, email: 'ann@example.com' };

  it('renders every part of every event from one template', () => {
    const mail = renderer.render('password.reset-requested', { ...base, resetUrl: 'https://accounts.example/reset-password?token=t' });
    expect(mail.subject).toBe('Reset your Accounts password');
    expect(mail.html).toMatch(/^<!DOCTYPE html>/);
    expect(mail.html).toContain('<title>Reset your Accounts password</title>');
    expect(mail.text).not.toContain('<');
  });

  it('lays the text part out as paragraphs without template indentation', () => {
    const { text } = renderer.render('user.registration-attempted', {
      ...base,
      signInUrl: 'https://accounts.example/login',
      forgotPasswordUrl: 'https://accounts.example/forgot-password',
    });
    expect(text).toMatch(/^Hello,\n\nSomeone just tried/);
    expect(text).toContain('\n\nReset my password:\nhttps://accounts.example/forgot-password\n\n');
    expect(text).not.toMatch(/\n{3,}|^[ \t]+\S/m);
  });

  it('never lets CR or LF into the subject', () => {
    const { subject } = renderer.render('password.changed', {
      ...base,
      appName: 'Acme\r\nBcc: victim@example.com',
      viaReset: true,
      forgotPasswordUrl: 'https://accounts.example/forgot-password',
    });
    expect(subject).toBe('Your Acme Bcc: victim@example.com password was changed');
  });

  it('escapes user data in HTML, including inside links, and leaves the text part verbatim', () => {
    const mail = renderer.render('email.confirmation-requested', {
      ...base,
      name: 'Eve "<b>" & co',
      confirmUrl: 'https://accounts.example/confirm-email?token=a&x="y"',
    });
    expect(mail.html).toContain('Hi Eve &quot;&lt;b&gt;&quot; &amp; co,');
    expect(mail.html).toContain('href="https://accounts.example/confirm-email?token=a&amp;x=&quot;y&quot;"');
    expect(mail.html).not.toContain('<b>');
    expect(mail.text).toContain('Hi Eve "<b>" & co,');
  });

  it('refuses to render a button whose link is missing or not http(s)', () => {
    expect(() => renderer.render('email.confirmation-requested', { ...base, confirmUrl: 'javascript:alert(1)' })).toThrow(
      'button "Confirm my email": the url must be http(s)',
    );
    expect(() => renderer.render('password.reset-requested', base)).toThrow('button "Choose a new password"');
  });
});
