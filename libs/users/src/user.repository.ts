import { EntityRepository } from '@mikro-orm/postgresql';
import { canonicalEmail } from './email.util';
import type { User } from './user.entity';

export class UserRepository extends EntityRepository<User> {
  /** The account of an address in the caller's transaction: one plain statement, mapped like any read. */
  findByEmail(email: string): Promise<User | null> {
    return this.firstMapped('select * from users where email_canonical = ?', [canonicalEmail(email)]);
  }

  /**
   * Like findByEmail, and keeps the row from being deleted until the caller's transaction ends, for
   * flows that are about to issue it a token. FOR KEY SHARE is the lock a token's foreign key takes
   * anyway: it conflicts with deletes (the unconfirmed-account cleaner skips such rows) but not
   * with updates of the user, so it adds no lock-order conflicts with the other flows. A row
   * deleted meanwhile reads as absent. Call it inside a transaction.
   */
  findByEmailHeld(email: string): Promise<User | null> {
    // The row whole, mapped like any other read: one round trip instead of a lock and a load.
    return this.firstMapped('select * from users where email_canonical = ? for key share', [canonicalEmail(email)]);
  }

  /**
   * The user, its row locked FOR NO KEY UPDATE until the caller's transaction ends, so a flow that
   * decides the password from what it reads (confirming an address) cannot lose a concurrent update.
   * It leaves FOR KEY SHARE (tokens, findByEmailHeld) unblocked. Call it inside a transaction.
   */
  findByIdLocked(id: string): Promise<User | null> {
    // The row whole, locked and mapped (em.map refreshes a loaded entity): one round trip.
    return this.firstMapped('select * from users where id = ? for no key update', [id]);
  }

  /** The first row of a `select * from users …` in the caller's transaction, mapped to an entity, or null. */
  private async firstMapped(sql: string, params: unknown[]): Promise<User | null> {
    const em = this.getEntityManager();
    const rows: Array<Record<string, unknown>> = await em.getConnection().execute(sql, params, 'all', em.getTransactionContext());
    return rows.length === 0 ? null : em.map<User>(this.entityName, rows[0]);
  }
}
