import { Migration } from '@mikro-orm/migrations';

/**
 * Sign-in with external identity providers (SPEC §12):
 * - `identities`: an account's links to (issuer, subject) pairs, one account per pair;
 * - `oidc_flows`: sign-ins in progress at a provider (state, PKCE verifier, nonce), each bound to
 *   the browser that started it and, for API consumers, to the redirect URI it named and the PKCE
 *   challenge the app sent (`client_code_challenge`);
 * - `oidc_exchange_codes`: the one-time codes such a flow ends in (60 s, hashed, single use), with
 *   that challenge, which the exchange's `code_verifier` must answer;
 * - `users.password_hash` becomes nullable: an account created through a provider has no password
 *   until one is set through forgot-password;
 * - sessions remember how and when they were signed in, for re-authentication without a password.
 */
export class Migration20261203000400_identities extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table identities (
        id uuid primary key,
        user_id uuid not null references users (id) on delete cascade,
        issuer varchar(255) not null,
        subject varchar(255) not null,
        email varchar(254) null,
        created_at timestamptz not null,
        constraint identities_issuer_subject_unique unique (issuer, subject)
      );`);
    this.addSql('create index identities_user_idx on identities (user_id);');
    this.addSql(`
      create table oidc_flows (
        state_hash char(64) primary key,
        provider varchar(32) not null,
        browser_hash char(64) not null,
        code_verifier varchar(128) not null,
        nonce varchar(128) not null,
        redirect_uri varchar(2048) null,
        client_state varchar(512) null,
        client_code_challenge char(43) null,
        expires_at timestamptz not null
      );`);
    this.addSql('create index oidc_flows_expires_idx on oidc_flows (expires_at);');
    this.addSql(`
      create table oidc_exchange_codes (
        code_hash char(64) primary key,
        user_id uuid not null references users (id) on delete cascade,
        provider varchar(32) not null,
        redirect_uri varchar(2048) not null,
        code_challenge char(43) null,
        expires_at timestamptz not null
      );`);
    this.addSql('create index oidc_exchange_codes_expires_idx on oidc_exchange_codes (expires_at);');
    this.addSql('alter table users alter column password_hash drop not null;');
    this.addSql(`alter table sessions add column sign_in_method varchar(16) not null default 'password';`);
    this.addSql('alter table sessions add column signed_in_at timestamptz null;');
    this.addSql('update sessions set signed_in_at = created_at;');
    this.addSql('alter table sessions alter column signed_in_at set not null;');
  }

  override async down(): Promise<void> {
    this.addSql('alter table sessions drop column signed_in_at;');
    this.addSql('alter table sessions drop column sign_in_method;');
    // Accounts without a password cannot exist under the old schema: going back removes them.
    this.addSql('delete from users where password_hash is null;');
    this.addSql('alter table users alter column password_hash set not null;');
    this.addSql('drop table if exists oidc_exchange_codes;');
    this.addSql('drop table if exists oidc_flows;');
    this.addSql('drop table if exists identities;');
  }
}
