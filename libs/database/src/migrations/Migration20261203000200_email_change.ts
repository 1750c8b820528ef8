import { Migration } from '@mikro-orm/migrations';

/**
 * Email change with undo (SPEC §10): two token purposes, and the address a token is about. An
 * `email_change` token carries the requested new address (confirming switches to exactly that
 * one), an `email_change_undo` token the old address it restores. Kept on the token row so a
 * newer request, which supersedes the token, supersedes its address with it.
 */
export class Migration20261203000200_email_change extends Migration {
  override async up(): Promise<void> {
    this.addSql('alter table one_time_tokens add column email varchar(254) null;');
    this.addSql('alter table one_time_tokens drop constraint if exists one_time_tokens_purpose_check;');
    this.addSql(
      `alter table one_time_tokens add constraint one_time_tokens_purpose_check
         check (purpose in ('email_confirmation', 'password_reset', 'email_change', 'email_change_undo'));`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`delete from one_time_tokens where purpose in ('email_change', 'email_change_undo');`);
    this.addSql('alter table one_time_tokens drop constraint if exists one_time_tokens_purpose_check;');
    this.addSql(`alter table one_time_tokens add constraint one_time_tokens_purpose_check check (purpose in ('email_confirmation', 'password_reset'));`);
    this.addSql('alter table one_time_tokens drop column if exists email;');
  }
}
