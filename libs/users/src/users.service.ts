import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { PreparedStatements } from '@accounts/database';
import { canonicalEmail } from './email.util';
import { toUserView, User, type UserRow, type UserView } from './user.entity';
import { AccountGoneError } from './users.errors';

/** A user the guard found signed in may have been deleted since; not an internal error. */
function existing(user: User | null): User {
  if (!user) throw new AccountGoneError();
  return user;
}

/** Profile reads and changes of an account; the account lifecycle builds on it. */
@Injectable()
export class UsersService {
  constructor(
    private readonly em: EntityManager,
    private readonly prepared: PreparedStatements,
  ) {}

  /**
   * The account of an address, read outside any transaction as a prepared statement (the first
   * step of forgot-password, a hot path), mapped into the caller's unit of work; null when none.
   */
  async findByEmail(email: string): Promise<User | null> {
    const [row] = await this.prepared.rows<UserRow>('select * from users where email_canonical = ?', [canonicalEmail(email)]);
    return row ? this.em.map(User, row) : null;
  }

  /** Sets or clears (null) the display name of the signed-in user; the name is validated at the edge. */
  async rename(userId: string, name: string | null): Promise<UserView> {
    return this.em.fork().transactional(async (em) => {
      const user = existing(await em.findOne(User, userId));
      user.name = name;
      return toUserView(user);
    });
  }
}
