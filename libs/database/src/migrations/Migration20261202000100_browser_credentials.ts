import { Migration } from '@mikro-orm/migrations';

/**
 * Browser session cookies get credentials of their own (hashed, rotated while in use) instead of
 * a refresh token of the session. Cookies set before this change no longer sign a browser in.
 */
export class Migration20261202000100_browser_credentials extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table browser_credentials (
        token_hash char(64) primary key,
        session_id uuid not null references sessions (id) on delete cascade,
        created_at timestamptz not null,
        replaced_at timestamptz null
      );`);
    this.addSql(`create index browser_credentials_session_idx on browser_credentials (session_id);`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists browser_credentials;');
  }
}
