import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { mfaConfig } from '@accounts/config';
import { normalizeRecoveryCode } from './recovery-codes.util';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * The keys of the second factor, both derived from MFA_KEY (HKDF, one purpose each):
 * - TOTP secrets are stored AES-256-GCM encrypted, the user id as associated data, so a ciphertext
 *   copied onto another account's row does not open;
 * - recovery codes are stored as HMAC-SHA-256 digests bound to the user id. The codes carry 60
 *   random bits, so no slow hash is needed against guessing, and the key means a stolen table alone
 *   cannot be checked offline at all.
 */
@Injectable()
export class MfaCrypto {
  private readonly secretKey: Buffer;
  private readonly digestKey: Buffer;

  constructor(@Inject(mfaConfig.KEY) config: ConfigType<typeof mfaConfig>) {
    this.secretKey = Buffer.from(hkdfSync('sha256', config.key, Buffer.alloc(0), 'accounts mfa totp-secret', 32));
    this.digestKey = Buffer.from(hkdfSync('sha256', config.key, Buffer.alloc(0), 'accounts mfa recovery-code', 32));
  }

  sealSecret(secret: string, userId: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.secretKey, iv).setAAD(associatedData(userId));
    const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return `${VERSION}.${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
  }

  /** Throws when the ciphertext was altered, belongs to another user or another MFA_KEY. */
  openSecret(sealed: string, userId: string): string {
    const [version, packed] = sealed.split('.');
    if (version !== VERSION || !packed) throw new Error('Unknown TOTP secret format');
    const bytes = Buffer.from(packed, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', this.secretKey, bytes.subarray(0, IV_BYTES)).setAAD(associatedData(userId));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
  }

  /** What the database keeps of a recovery code. */
  digestRecoveryCode(code: string, userId: string): string {
    return createHmac('sha256', this.digestKey).update(`${userId}\n${normalizeRecoveryCode(code)}`).digest('hex');
  }
}

function associatedData(userId: string): Buffer {
  return Buffer.from(`accounts mfa totp ${userId}`, 'utf8');
}
