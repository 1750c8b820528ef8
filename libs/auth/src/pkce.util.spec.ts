import { answersS256Challenge } from './pkce.util';

describe('answersS256Challenge', () => {
  // RFC 7636 Appendix B.
  const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
  const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

  it('accepts the verifier of the challenge (the RFC\'s example)', () => {
    expect(answersS256Challenge(verifier, challenge)).toBe(true);
  });

  it.each([
    ['another verifier', `${verifier.slice(0, -1)}l`],
    ['the challenge itself (the plain method)', challenge],
    ['a verifier shorter than 43 characters', verifier.slice(0, 42)],
    ['a verifier longer than 128 characters', 'a'.repeat(129)],
    ['characters outside the unreserved set', `${verifier}+`],
    ['the empty string', ''],
  ])('refuses %s', (_name, candidate) => {
    expect(answersS256Challenge(candidate, challenge)).toBe(false);
  });

  it('refuses against a challenge of another length without throwing', () => {
    expect(answersS256Challenge(verifier, `${challenge}A`)).toBe(false);
  });
});
