import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { toUserView, User, type UserView } from './user.entity';
import { AccountGoneError } from './users.errors';

/** A user the guard found signed in may have been deleted since; not an internal error. */
function existing(user: User | null): User {
  if (!user) throw new AccountGoneError();
  return user;
}

/** Profile reads and changes of an account; the account lifecycle builds on it. */
@Injectable()
export class UsersService {
  constructor(private readonly em: EntityManager) {}

  /** Sets or clears (null) the display name of the signed-in user; the name is validated at the edge. */
  async rename(userId: string, name: string | null): Promise<UserView> {
    return this.em.fork().transactional(async (em) => {
      const user = existing(await em.findOne(User, userId));
      user.name = name;
      return toUserView(user);
    });
  }
}
