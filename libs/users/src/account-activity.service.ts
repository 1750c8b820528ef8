import type { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { AccountActivity, type ActivityType } from './account-activity.entity';
import { cleanClientMeta, type ClientMeta } from './client-meta.util';

/** The account activity record (SPEC §10): written by the flows it describes, read by its owner. */
@Injectable()
export class AccountActivityService {
  /**
   * Records an event in the caller's unit of work, so it commits (or rolls back) with the change it
   * describes. Flush or commit the transaction as usual.
   */
  record(em: EntityManager, userId: string, type: ActivityType, client: ClientMeta = {}): void {
    const { ip, userAgent } = cleanClientMeta(client);
    em.persist(new AccountActivity(userId, type, ip, userAgent));
  }
}
