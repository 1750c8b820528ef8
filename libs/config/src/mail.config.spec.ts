import { Logger } from '@nestjs/common';
import { ConfigError } from './env';
import { mailConfig } from './mail.config';

describe('mail config: SMTP transport security', () => {
  const saved = { ...process.env };
  // The plaintext warning is the config's to give at start-up, not this spec's output.
  beforeEach(() => jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined));
  afterEach(() => {
    process.env = { ...saved };
    jest.restoreAllMocks();
  });
  const load = (vars: Record<string, string>) => {
    process.env = { ...vars };
    return mailConfig();
  };

  it('requires STARTTLS on smtp:// in production (NODE_ENV unset included)', () => {
    expect(load({ SMTP_URL: 'smtp://user:pass@mail.example.com:587' }).smtpRequireTls).toBe(true);
    expect(load({ NODE_ENV: 'production', SMTP_URL: 'smtp://mail.example.com:587' }).smtpRequireTls).toBe(true);
  });

  it('needs no STARTTLS on smtps://, which is TLS from the first byte', () => {
    expect(load({ SMTP_URL: 'smtps://mail.example.com:465' }).smtpRequireTls).toBe(false);
  });

  it('sends plaintext in production only with SMTP_ALLOW_PLAINTEXT=true, and always outside production', () => {
    expect(load({ SMTP_URL: 'smtp://mailpit:1025', SMTP_ALLOW_PLAINTEXT: 'true' }).smtpRequireTls).toBe(false);
    expect(load({ SMTP_URL: 'smtp://mailpit:1025', SMTP_ALLOW_PLAINTEXT: 'false' }).smtpRequireTls).toBe(true);
    expect(load({ NODE_ENV: 'test', SMTP_URL: 'smtp://127.0.0.1:2525' }).smtpRequireTls).toBe(false);
    expect(load({ NODE_ENV: 'development', SMTP_URL: 'smtp://127.0.0.1:1025' }).smtpRequireTls).toBe(false);
    expect(() => load({ SMTP_URL: 'smtp://mailpit:1025', SMTP_ALLOW_PLAINTEXT: 'maybe' })).toThrow(/^SMTP_ALLOW_PLAINTEXT must be true or false/);
  });

  it.each(['ignoreTLS=true', 'requireTLS=false', 'secure=false', 'tls.rejectUnauthorized=false'])(
    'refuses an SMTP_URL whose query (%s) would switch TLS off behind the setting, in production',
    (query) => {
      expect(() => load({ SMTP_URL: `smtp://mail.example.com:587?${query}` })).toThrow(ConfigError);
      expect(() => load({ SMTP_URL: `smtp://mail.example.com:587?${query}` })).toThrow(new RegExp(`^SMTP_URL must not set ${query.split('=')[0].replace('.', '\\.')} in production`));
      expect(load({ SMTP_URL: `smtp://mail.example.com:587?${query}`, SMTP_ALLOW_PLAINTEXT: 'true' }).smtpUrl).toContain(query);
    },
  );

  it('accepts a query that only insists on STARTTLS', () => {
    expect(load({ SMTP_URL: 'smtp://mail.example.com:587?requireTLS=true' }).smtpRequireTls).toBe(true);
  });

  it('has no transport security to decide without SMTP_URL (.eml files)', () => {
    expect(load({ MAIL_OUTBOX_DIR: 'var/mail' }).smtpRequireTls).toBe(false);
  });

  it('writes messages to files in production only when MAIL_OUTBOX_DIR says where (they hold live links)', () => {
    expect(() => load({})).toThrow(/^SMTP_URL is required in production/);
    expect(() => load({ NODE_ENV: 'production' })).toThrow(ConfigError);
    expect(load({ MAIL_OUTBOX_DIR: '/var/spool/accounts' }).outboxDir).toBe('/var/spool/accounts');
    expect(load({ NODE_ENV: 'development' }).smtpUrl).toBeUndefined();
    expect(load({ NODE_ENV: 'test' }).outboxDir).toBe('var/mail');
  });
});
