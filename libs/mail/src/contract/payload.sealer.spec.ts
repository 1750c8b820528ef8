import { createCipheriv, randomBytes } from 'node:crypto';
import { PayloadSealer, PayloadSealError, type SealBinding } from './payload.sealer';

describe('PayloadSealer', () => {
  const key = randomBytes(32);
  const sealer = new PayloadSealer({ key });
  const binding: SealBinding = { eventId: 'event-1', userId: 'user-1', email: 'ann@example.com' };

  it('round-trips a token for the event and recipient it was sealed for', () => {
    const sealed = sealer.seal('token-value', binding);
    expect(sealed.sealed).toMatch(/^v2\./);
    expect(sealed.sealed).not.toContain('token-value');
    expect(sealer.open(sealed, binding)).toBe('token-value');
  });

  it('refuses a sealed token moved into another event', () => {
    const sealed = sealer.seal('token-value', binding);
    expect(() => sealer.open(sealed, { ...binding, eventId: 'event-2' })).toThrow(PayloadSealError);
  });

  it('refuses a sealed token whose recipient or user was changed, even only in case or by a separator', () => {
    const sealed = sealer.seal('token-value', binding);
    for (const changed of [
      { ...binding, email: 'eve@example.com' },
      { ...binding, email: 'Ann@example.com' },
      { ...binding, userId: 'user-2' },
      { eventId: 'event-1', userId: 'user-1","ann@example.com', email: '' },
      { ...binding, email: ['ann@example.com'] as unknown as string },
    ]) {
      expect(() => sealer.open(sealed, changed)).toThrow(PayloadSealError);
    }
  });

  it('refuses a v1 seal, which binds the event id only', () => {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(binding.eventId));
    const body = Buffer.concat([cipher.update('token-value', 'utf8'), cipher.final()]);
    const v1 = { sealed: `v1.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}` };
    expect(() => sealer.open(v1, binding)).toThrow(PayloadSealError);
  });

  it('refuses a token sealed under another key or tampered with', () => {
    const other = new PayloadSealer({ key: randomBytes(32) });
    const sealed = other.seal('token-value', binding);
    expect(() => sealer.open(sealed, binding)).toThrow(PayloadSealError);
    const mine = sealer.seal('token-value', binding);
    const flipped = mine.sealed.slice(0, -2) + (mine.sealed.endsWith('A') ? 'BB' : 'AA');
    expect(() => sealer.open({ sealed: flipped }, binding)).toThrow(PayloadSealError);
  });
});
