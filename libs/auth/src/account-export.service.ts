import { IsolationLevel } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { OneTimeToken, TokenPurpose } from '@accounts/tokens';
import { AccountActivityService, toUserView, User, type ActivityView, type UserView } from '@accounts/users';
import { AuthenticationRequiredError } from './auth.errors';
import { Identity } from './identity.entity';
import { OidcClient } from './oidc-client.service';
import { Session } from './session.entity';

/** The profile as stored: the API's view of the user, and when it last changed. */
export interface ProfileExport extends UserView {
  emailConfirmedAt: string | null;
  updatedAt: string;
}

/** A session as stored, live or ended; never a token or its hash. */
export interface SessionExport {
  id: string;
  createdAt: string;
  lastUsedAt: string;
  expiresAt: string;
  revokedAt: string | null;
  ip: string | null;
  userAgent: string | null;
}

/**
 * The emailed links an export lists. Email-change links are left out: one is stored only when the
 * new address is free, so listing them would tell the owner which addresses are registered (the
 * change answers 202 either way).
 */
export const EXPORTED_LINK_PURPOSES = [TokenPurpose.EmailConfirmation, TokenPurpose.PasswordReset];

/** An emailed link (confirmation, reset) as stored; never the token, its hash or an address. */
export interface EmailedLinkExport {
  purpose: string;
  createdAt: string;
  expiresAt: string;
  usedAt: string | null;
}

/** A link to an identity provider's account, as stored (SPEC §12). */
export interface IdentityExport {
  id: string;
  /** The provider's issuer and its id for the user there (stored about the user, so exported). */
  issuer: string;
  subject: string;
  /** The configured provider's label; null for an issuer no longer configured. */
  provider: string | null;
  /** The address the provider asserted when the identity was linked. */
  email: string | null;
  createdAt: string;
}

/** The state of two-step sign-in (SPEC §11); never the secret, its ciphertext or a code's digest. */
export interface MfaExport {
  enabled: boolean;
  enabledAt: string | null;
  /** Unused recovery codes left (0 while MFA is off). */
  recoveryCodesRemaining: number;
}

/**
 * The sections of a data export: everything stored about the user, never a hash or a secret.
 * To add a section: a property here, its reader in `sections` of AccountExportService, and its schema in the
 * API's AccountExportResponse.
 */
export interface AccountExportSections {
  profile: ProfileExport;
  sessions: SessionExport[];
  emailedLinks: EmailedLinkExport[];
  identities: IdentityExport[];
  mfa: MfaExport;
  activity: ActivityView[];
}

export type AccountExport = { exportedAt: string } & AccountExportSections;

type SectionReaders = { [S in keyof AccountExportSections]: (em: EntityManager, user: User) => Promise<AccountExportSections[S]> };

const iso = (date: Date | null) => (date === null ? null : date.toISOString());

/** Builds the data export of GET /users/me/export (SPEC §10). */
@Injectable()
export class AccountExportService {
  /** How each section is read; a section missing here does not compile. */
  private readonly sections: SectionReaders = {
    profile: async (_em, user) => ({
      ...toUserView(user),
      emailConfirmedAt: iso(user.emailConfirmedAt),
      updatedAt: user.updatedAt.toISOString(),
    }),
    sessions: async (em, user) =>
      (await em.find(Session, { user: user.id }, { orderBy: { createdAt: 'desc' } })).map((session) => ({
        id: session.id,
        createdAt: session.createdAt.toISOString(),
        lastUsedAt: session.lastUsedAt.toISOString(),
        expiresAt: session.expiresAt.toISOString(),
        revokedAt: iso(session.revokedAt),
        ip: session.ip,
        userAgent: session.userAgent,
      })),
    emailedLinks: async (em, user) =>
      (
        await em.find(OneTimeToken, { user: user.id, purpose: { $in: EXPORTED_LINK_PURPOSES } }, { orderBy: { createdAt: 'desc' } })
      ).map((token) => ({
        purpose: token.purpose,
        createdAt: token.createdAt.toISOString(),
        expiresAt: token.expiresAt.toISOString(),
        usedAt: iso(token.usedAt),
      })),
    identities: async (em, user) =>
      (await em.find(Identity, { user: user.id }, { orderBy: { createdAt: 'asc', id: 'asc' } })).map((identity) => ({
        id: identity.id,
        issuer: identity.issuer,
        subject: identity.subject,
        provider: this.oidc.providerOf(identity.issuer)?.label ?? null,
        email: identity.email,
        createdAt: identity.createdAt.toISOString(),
      })),
    mfa: async (em, user) => {
      const [{ remaining }] = await em
        .getConnection()
        .execute<Array<{ remaining: number }>>('select count(*)::int as remaining from mfa_recovery_codes where user_id = ? and used_at is null', [user.id], 'all', em.getTransactionContext());
      return { enabled: user.mfaEnabledAt !== null, enabledAt: iso(user.mfaEnabledAt), recoveryCodesRemaining: remaining };
    },
    activity: (em, user) => this.activity.newest(em, user.id),
  };

  constructor(
    private readonly em: EntityManager,
    private readonly activity: AccountActivityService,
    private readonly oidc: OidcClient,
  ) {}

  /** Every section, read from one snapshot so they agree with each other. */
  async exportFor(userId: string): Promise<AccountExport> {
    return this.em.fork().transactional(
      async (em) => {
        // Deleted between the guard and here: as if the session had already ended.
        const user = await em.findOne(User, userId);
        if (!user) throw new AuthenticationRequiredError();
        const sections = {} as Record<keyof AccountExportSections, unknown>;
        for (const [name, read] of Object.entries(this.sections) as Array<[keyof AccountExportSections, SectionReaders[keyof SectionReaders]]>) {
          sections[name] = await read(em, user);
        }
        return { exportedAt: new Date().toISOString(), ...(sections as AccountExportSections) };
      },
      { isolationLevel: IsolationLevel.REPEATABLE_READ, readOnly: true },
    );
  }
}
