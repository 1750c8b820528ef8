import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { payloadConfig } from '@accounts/config';
import type { SealedToken } from './mail.events';

/**
 * v2 binds the event id, the user id and the recipient address; v1 bound the event id only and is
 * refused, since it cannot prove that the address it goes to is the one it was sealed for.
 */
const VERSION = 'v2';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Raised when a sealed value was tampered with, sealed for another event or recipient, or under another key. */
export class PayloadSealError extends Error {
  override readonly name = 'PayloadSealError';
}

/** What a sealed token is bound to: the event that carries it and the one recipient it may reach. */
export interface SealBinding {
  eventId: string;
  userId: string;
  /** Exactly the address the mail is sent to, byte for byte (no case folding). */
  email: string;
}

/**
 * Seals one-time tokens for the trip through the outbox and Redis (AES-256-GCM), so neither holds a
 * usable token at rest. The event id, user id and recipient address are bound as associated data:
 * a sealed token cannot be moved into another event, nor its event redirected to another address.
 */
@Injectable()
export class PayloadSealer {
  constructor(@Inject(payloadConfig.KEY) private readonly config: ConfigType<typeof payloadConfig>) {}

  seal(plain: string, binding: SealBinding): SealedToken {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.config.key, iv);
    cipher.setAAD(associatedData(binding));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return { sealed: `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}` };
  }

  open(token: SealedToken, binding: SealBinding): string {
    const [version, data] = token.sealed.split('.');
    if (version !== VERSION || !data) throw new PayloadSealError(`Unknown or retired sealed payload format "${version}"`);
    const raw = Buffer.from(data, 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES) throw new PayloadSealError('Sealed payload too short');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.config.key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(associatedData(binding));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new PayloadSealError('Sealed payload could not be opened (changed event, user or recipient, wrong PAYLOAD_KEY, or tampered)');
    }
  }
}

/**
 * A JSON array of the version and the three fields: unambiguous (no separator a field could
 * contain), and a non-string field, which a tampered job may carry, never matches a sealed one.
 */
function associatedData({ eventId, userId, email }: SealBinding): Buffer {
  if (typeof eventId !== 'string' || typeof userId !== 'string' || typeof email !== 'string') {
    throw new PayloadSealError('Sealed payload binding is incomplete');
  }
  return Buffer.from(JSON.stringify([VERSION, eventId, userId, email]), 'utf8');
}
