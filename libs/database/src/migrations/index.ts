import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261127000000_initial } from './Migration20261127000000_initial';
import { Migration20261201000000_outbox_published_idx } from './Migration20261201000000_outbox_published_idx';
import { Migration20261202000000_confirmation_password } from './Migration20261202000000_confirmation_password';
import { Migration20261202000100_browser_credentials } from './Migration20261202000100_browser_credentials';
import { Migration20261203000000_account_activity } from './Migration20261203000000_account_activity';
import { Migration20261203000100_account_lifecycle } from './Migration20261203000100_account_lifecycle';
import { Migration20261203000200_email_change } from './Migration20261203000200_email_change';
import { Migration20261203000300_mfa } from './Migration20261203000300_mfa';
import { Migration20261203000400_identities } from './Migration20261203000400_identities';
import { Migration20261203000500_token_order } from './Migration20261203000500_token_order';

/** Every migration, in order. Listed explicitly so the built apps carry them without globbing. */
export const migrationsList: MigrationObject[] = [
  { name: 'Migration20261127000000_initial', class: Migration20261127000000_initial },
  { name: 'Migration20261201000000_outbox_published_idx', class: Migration20261201000000_outbox_published_idx },
  { name: 'Migration20261202000000_confirmation_password', class: Migration20261202000000_confirmation_password },
  { name: 'Migration20261202000100_browser_credentials', class: Migration20261202000100_browser_credentials },
  { name: 'Migration20261203000000_account_activity', class: Migration20261203000000_account_activity },
  { name: 'Migration20261203000100_account_lifecycle', class: Migration20261203000100_account_lifecycle },
  { name: 'Migration20261203000200_email_change', class: Migration20261203000200_email_change },
  { name: 'Migration20261203000300_mfa', class: Migration20261203000300_mfa },
  { name: 'Migration20261203000400_identities', class: Migration20261203000400_identities },
  { name: 'Migration20261203000500_token_order', class: Migration20261203000500_token_order },
];
