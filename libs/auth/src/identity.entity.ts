import { randomUUID } from 'node:crypto';
import { Entity, ManyToOne, PrimaryKey, Property, ref, Unique, type Ref } from '@mikro-orm/core';
import { User } from '@accounts/users';

/** An account's link to an identity at an external OpenID Provider: one account per (issuer, subject). */
@Entity({ tableName: 'identities' })
@Unique({ name: 'identities_issuer_subject_unique', properties: ['issuer', 'subject'] })
export class Identity {
  @PrimaryKey({ type: 'uuid' })
  id: string = randomUUID();

  @ManyToOne(() => User, { ref: true, deleteRule: 'cascade' })
  user: Ref<User>;

  /** The ID token's `iss`, exactly as the provider states it. */
  @Property({ type: 'string', length: 255 })
  issuer: string;

  @Property({ type: 'string', length: 255 })
  subject: string;

  /** The address the provider asserted when the identity was linked. */
  @Property({ type: 'string', length: 254, nullable: true })
  email: string | null;

  @Property({ type: 'datetime' })
  createdAt: Date = new Date();

  constructor(user: User, issuer: string, subject: string, email: string | null) {
    this.user = ref(user);
    this.issuer = issuer;
    this.subject = subject;
    this.email = email;
  }
}
