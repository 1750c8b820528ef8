import { Migration } from '@mikro-orm/migrations';

/**
 * - `one_time_tokens.seq`: the order tokens were issued in, assigned by the database. An undo keeps
 * the undo links issued before its own by this order, not by `created_at`, which comes from the
 * clock of whichever app host issued the token (replicas' clocks may disagree by more than the
 * time between two changes).
 * - `one_time_tokens.email_confirmed` (undo links): whether the address the link restores had been
 * confirmed, so the mail an undo sends there leaves out a name its inbox never vouched for.
 */
export class Migration20261203000500_token_order extends Migration {
  override async up(): Promise<void> {
    this.addSql('alter table one_time_tokens add column seq bigint generated always as identity;');
    this.addSql('alter table one_time_tokens add column email_confirmed boolean null;');
  }

  override async down(): Promise<void> {
    this.addSql('alter table one_time_tokens drop column email_confirmed;');
    this.addSql('alter table one_time_tokens drop column seq;');
  }
}
