import { Migration } from '@mikro-orm/migrations';

/**
 * Multi-factor authentication (SPEC §11): the account's TOTP factor (secret encrypted under
 * MFA_KEY; pending until `enabled_at` is set), its recovery codes (keyed digests only) and the
 * short-lived challenges of a sign-in's second step (token digests only). `users.mfa_enabled_at`
 * lets every sign-in decide on the second factor from the row it already holds.
 */
export class Migration20261203000300_mfa extends Migration {
  override async up(): Promise<void> {
    this.addSql('alter table users add column mfa_enabled_at timestamptz null;');
    this.addSql(`
      create table mfa_totp (
        user_id uuid primary key references users(id) on delete cascade,
        secret_ciphertext text not null,
        enabled_at timestamptz null,
        last_used_step bigint null,
        created_at timestamptz not null
      );`);
    this.addSql(`
      create table mfa_recovery_codes (
        id uuid primary key,
        user_id uuid not null references users(id) on delete cascade,
        code_digest varchar(64) not null,
        used_at timestamptz null,
        created_at timestamptz not null
      );`);
    this.addSql('create unique index mfa_recovery_codes_user_digest_unique on mfa_recovery_codes (user_id, code_digest);');
    this.addSql(`
      create table mfa_challenges (
        id uuid primary key,
        user_id uuid not null references users(id) on delete cascade,
        token_hash varchar(64) not null,
        sign_in_method varchar(16) not null,
        attempts int not null default 0,
        expires_at timestamptz not null,
        used_at timestamptz null,
        created_at timestamptz not null
      );`);
    this.addSql('create unique index mfa_challenges_token_hash_unique on mfa_challenges (token_hash);');
    this.addSql('create index mfa_challenges_user_idx on mfa_challenges (user_id);');
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists mfa_challenges;');
    this.addSql('drop table if exists mfa_recovery_codes;');
    this.addSql('drop table if exists mfa_totp;');
    this.addSql('alter table users drop column if exists mfa_enabled_at;');
  }
}
