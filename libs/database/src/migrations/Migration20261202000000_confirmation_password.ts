import { Migration } from '@mikro-orm/migrations';

/**
 * A confirmation token carries the password hash of the registration that produced it: confirming
 * activates that password, never one an earlier registrant of the address chose (account
 * pre-hijacking). Tokens issued before this migration carry none and confirm without a change.
 */
export class Migration20261202000000_confirmation_password extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table one_time_tokens add column password_hash text null;`);
    // Lets the unconfirmed-account purge find old claims without scanning every user.
    this.addSql(`create index users_unconfirmed_created_idx on users (created_at) where email_confirmed_at is null;`);
  }

  override async down(): Promise<void> {
    this.addSql('drop index if exists users_unconfirmed_created_idx;');
    this.addSql('alter table one_time_tokens drop column if exists password_hash;');
  }
}
