import { Migration } from '@mikro-orm/migrations';

/** Users, one-time tokens, sessions with their refresh tokens, and the outbox. */
export class Migration20261127000000_initial extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table users (
        id uuid primary key,
        email varchar(254) not null,
        email_canonical varchar(254) not null,
        name varchar(100) null,
        password_hash text not null,
        email_confirmed_at timestamptz null,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        constraint users_email_canonical_unique unique (email_canonical)
      );`);
    this.addSql(`
      create table one_time_tokens (
        id uuid primary key,
        user_id uuid not null references users (id) on delete cascade,
        purpose varchar(32) not null check (purpose in ('email_confirmation', 'password_reset')),
        token_hash char(64) not null,
        expires_at timestamptz not null,
        used_at timestamptz null,
        created_at timestamptz not null,
        constraint one_time_tokens_token_hash_unique unique (token_hash)
      );`);
    this.addSql(`create index one_time_tokens_outstanding_idx on one_time_tokens (user_id, purpose) where used_at is null;`);
    this.addSql(`
      create table sessions (
        id uuid primary key,
        user_id uuid not null references users (id) on delete cascade,
        created_at timestamptz not null,
        last_used_at timestamptz not null,
        expires_at timestamptz not null,
        revoked_at timestamptz null,
        user_agent varchar(512) null,
        ip varchar(64) null
      );`);
    this.addSql(`create index sessions_user_live_idx on sessions (user_id) where revoked_at is null;`);
    this.addSql(`
      create table refresh_tokens (
        token_hash char(64) primary key,
        session_id uuid not null references sessions (id) on delete cascade,
        created_at timestamptz not null,
        used_at timestamptz null
      );`);
    this.addSql(`create index refresh_tokens_session_idx on refresh_tokens (session_id);`);
    this.addSql(`
      create table outbox (
        id uuid primary key,
        name varchar(100) not null,
        payload jsonb not null,
        created_at timestamptz not null,
        published_at timestamptz null
      );`);
    this.addSql(`create index outbox_unpublished_idx on outbox (created_at) where published_at is null;`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists outbox, refresh_tokens, sessions, one_time_tokens, users cascade;');
  }
}
