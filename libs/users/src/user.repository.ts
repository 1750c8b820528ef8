import { EntityRepository } from '@mikro-orm/postgresql';
import { canonicalEmail } from './email';
import type { User } from './user.entity';

export class UserRepository extends EntityRepository<User> {
  findByEmail(email: string): Promise<User | null> {
    return this.findOne({ emailCanonical: canonicalEmail(email) });
  }
}
