import { execFileSync } from 'node:child_process';
import { Secret, TOTP } from 'otpauth';
import { DEFAULT_OATHTOOL_PATH } from './prerequisites';

const OATHTOOL = process.env.OATHTOOL_PATH ?? DEFAULT_OATHTOOL_PATH;
const STEP_MS = 30_000;

/** The code Debian's oathtool computes for `secret` (base32) at `atMs`: an implementation independent of ours. */
export function oathtoolCode(secret: string, atMs: number): string {
  return execFileSync(OATHTOOL, ['--totp', '-b', secret, '-N', `@${Math.floor(atMs / 1000)}`], { encoding: 'utf8' }).trim();
}

/** The code otpauth (the library the API uses) computes for `secret` at `atMs`. */
export function otpauthCode(secret: string, atMs: number): string {
  return new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 }).generate({ timestamp: atMs });
}

/**
 * The TOTP code of `secret`, `offsetSteps` 30-second steps from now, as oathtool computes it; fails
 * the test if otpauth disagrees, so a misreading of RFC 6238 shared by our code and our tests
 * cannot pass.
 */
export function totpCode(secret: string, offsetSteps = 0): string {
  const at = Date.now() + offsetSteps * STEP_MS;
  const independent = oathtoolCode(secret, at);
  const ours = otpauthCode(secret, at);
  if (independent !== ours) throw new Error(`oathtool (${independent}) and otpauth (${ours}) disagree for step ${offsetSteps}`);
  return independent;
}

/**
 * Waits, if needed, until at least `marginMs` remain of the current step, so a test's codes for
 * "now", "now ± 1" and "now ± 2" keep meaning the same step on the server (at most a few seconds).
 */
export async function awayFromStepEdge(marginMs = 5_000): Promise<void> {
  const left = STEP_MS - (Date.now() % STEP_MS);
  if (left < marginMs) await new Promise((resolve) => setTimeout(resolve, left + 50));
}
