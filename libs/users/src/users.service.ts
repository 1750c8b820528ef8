import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { toUserView, User, type UserRow, type UserView } from './user.entity';

/** Profile reads and changes of an account; the account lifecycle builds on it. */
@Injectable()
export class UsersService {
  constructor(private readonly em: EntityManager) {}

  /** The public view of a row of `users` read by raw SQL (the bearer check reads the signed-in user with its session). */
  viewOf(row: UserRow): UserView {
    return toUserView(this.em.map(User, row));
  }

  /** Sets or clears (null) the display name of a user who exists; the name is validated at the edge. */
  async rename(userId: string, name: string | null): Promise<UserView> {
    return this.em.fork().transactional(async (em) => {
      const user = await em.findOneOrFail(User, userId);
      user.name = name;
      return toUserView(user);
    });
  }
}
