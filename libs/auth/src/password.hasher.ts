import { randomBytes } from 'node:crypto';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { hash, parseOptions, verify, type Algorithm, type Options } from '@node-rs/argon2';
import { authConfig } from '@accounts/config';

/** `Algorithm` is a const enum in the typings with no runtime value; 2 is argon2id. */
const ARGON2ID = 2 as Algorithm;

/** argon2id over NFC-normalised passwords, PHC strings stored. */
@Injectable()
export class PasswordHasher implements OnModuleInit {
  private readonly options: Options;
  private dummyHash = '';

  constructor(@Inject(authConfig.KEY) config: ConfigType<typeof authConfig>) {
    this.options = {
      algorithm: ARGON2ID,
      memoryCost: config.argon2.memoryKib,
      timeCost: config.argon2.timeCost,
      parallelism: config.argon2.parallelism,
    };
  }

  async onModuleInit(): Promise<void> {
    // Verified against when an address is unknown, so that answer costs what a wrong password costs.
    this.dummyHash = await this.hash(randomBytes(16).toString('hex'));
  }

  hash(password: string): Promise<string> {
    return hash(password.normalize('NFC'), this.options);
  }

  async verify(phc: string, password: string): Promise<boolean> {
    try {
      return await verify(phc, password.normalize('NFC'));
    } catch {
      return false;
    }
  }

  /** Burns the same work as a real verification and always fails. */
  async verifyDummy(password: string): Promise<false> {
    await this.verify(this.dummyHash, password);
    return false;
  }

  /** True when the stored hash is weaker than the configured parameters (they only ever grow). */
  needsRehash(phc: string): boolean {
    try {
      const current = parseOptions(phc);
      return (
        current.algorithm !== ARGON2ID ||
        current.memoryCost < this.options.memoryCost! ||
        current.timeCost < this.options.timeCost! ||
        current.parallelism < this.options.parallelism!
      );
    } catch {
      return true;
    }
  }
}
