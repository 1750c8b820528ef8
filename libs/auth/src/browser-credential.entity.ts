import { Entity, ManyToOne, OptionalProps, PrimaryKey, Property, type Ref } from '@mikro-orm/core';
import { Session } from './session.entity';

/**
 * What a browser's session cookie holds, stored as its hash: a credential of its own, bound to a
 * session, never a refresh token. Replaced ones are kept to detect reuse.
 */
@Entity({ tableName: 'browser_credentials' })
export class BrowserCredential {
  [OptionalProps]?: 'createdAt' | 'replacedAt';

  @PrimaryKey({ type: 'string', length: 64 })
  tokenHash: string;

  @ManyToOne(() => Session, { ref: true, deleteRule: 'cascade' })
  session: Ref<Session>;

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();

  /** When its successor was issued; it stays valid for a short grace after that. */
  @Property({ type: 'datetime', nullable: true })
  replacedAt: Date | null = null;
}
