import { EntityRepository, type FindOneOptions } from '@mikro-orm/postgresql';
import { canonicalEmail } from './email';
import type { User } from './user.entity';

export class UserRepository extends EntityRepository<User> {
  findByEmail(email: string, options?: FindOneOptions<User>): Promise<User | null> {
    return this.findOne({ emailCanonical: canonicalEmail(email) }, options);
  }
}
