import { Migration } from '@mikro-orm/migrations';

/** Lets the outbox cleaner find published rows past their retention without scanning the table. */
export class Migration20261201000000_outbox_published_idx extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create index outbox_published_idx on outbox (published_at) where published_at is not null;`);
  }

  override async down(): Promise<void> {
    this.addSql('drop index if exists outbox_published_idx;');
  }
}
