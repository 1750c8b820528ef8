import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { payloadConfig } from '@accounts/config';
import type { SealedToken } from './mail.events';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Raised when a sealed value was tampered with or sealed under another key. */
export class PayloadSealError extends Error {
  override readonly name = 'PayloadSealError';
}

/**
 * Seals one-time tokens for the trip through the outbox and Redis (AES-256-GCM), so neither holds a
 * usable token at rest. The event id is bound as associated data: a sealed token cannot be moved
 * into another event.
 */
@Injectable()
export class PayloadSealer {
  constructor(@Inject(payloadConfig.KEY) private readonly config: ConfigType<typeof payloadConfig>) {}

  seal(plain: string, eventId: string): SealedToken {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.config.key, iv);
    cipher.setAAD(Buffer.from(eventId));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return { sealed: `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}` };
  }

  open(token: SealedToken, eventId: string): string {
    const [version, data] = token.sealed.split('.');
    if (version !== VERSION || !data) throw new PayloadSealError('Unknown sealed payload format');
    const raw = Buffer.from(data, 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES) throw new PayloadSealError('Sealed payload too short');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.config.key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(eventId));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new PayloadSealError('Sealed payload could not be opened (wrong PAYLOAD_KEY or tampered)');
    }
  }
}
