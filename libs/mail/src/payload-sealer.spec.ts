import { randomBytes } from 'node:crypto';
import { PayloadSealer, PayloadSealError } from './payload-sealer';

describe('PayloadSealer', () => {
  const sealer = new PayloadSealer({ key: randomBytes(32) });

  it('round-trips a token for the event it was sealed for', () => {
    const sealed = sealer.seal('token-value', 'event-1');
    expect(sealed.sealed).not.toContain('token-value');
    expect(sealer.open(sealed, 'event-1')).toBe('token-value');
  });

  it('refuses a sealed token moved into another event', () => {
    const sealed = sealer.seal('token-value', 'event-1');
    expect(() => sealer.open(sealed, 'event-2')).toThrow(PayloadSealError);
  });

  it('refuses a token sealed under another key or tampered with', () => {
    const other = new PayloadSealer({ key: randomBytes(32) });
    const sealed = other.seal('token-value', 'event-1');
    expect(() => sealer.open(sealed, 'event-1')).toThrow(PayloadSealError);
    const mine = sealer.seal('token-value', 'event-1');
    const flipped = mine.sealed.slice(0, -2) + (mine.sealed.endsWith('A') ? 'BB' : 'AA');
    expect(() => sealer.open({ sealed: flipped }, 'event-1')).toThrow(PayloadSealError);
  });
});
