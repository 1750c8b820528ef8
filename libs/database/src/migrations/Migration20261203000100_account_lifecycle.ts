import { Migration } from '@mikro-orm/migrations';

/**
 * Account deletion (SPEC §10) scrubs the outbox rows of the deleted user in its transaction: this
 * index finds them by the payload's user id without reading the whole retained outbox.
 */
export class Migration20261203000100_account_lifecycle extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create index outbox_user_idx on outbox ((payload->>'userId'));`);
  }

  override async down(): Promise<void> {
    this.addSql('drop index if exists outbox_user_idx;');
  }
}
