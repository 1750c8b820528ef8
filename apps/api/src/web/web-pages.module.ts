import { Module } from '@nestjs/common';
import { AuthModule } from '@accounts/auth';
import { UsersModule } from '@accounts/users';
import { AccountLifecyclePagesController } from './account-lifecycle-pages.controller';
import { AccountPagesController } from './account-pages.controller';
import { EmailChangePagesController } from './email-change-pages.controller';
import { LinkPagesController } from './link-pages.controller';
import { OidcPagesController } from './oidc-pages.controller';
import { BrowserSessions } from './browser-sessions.service';
import { FormGuard, SignedInFormGuard } from './form.guards';
import { MfaPagesController } from './mfa-pages.controller';
import { MfaSecondStepPage } from './mfa-second-step.page';
import { ReauthenticationView } from './reauthentication.view';

/** The server-rendered pages (sign-in, registration, links from emails, the account page). */
@Module({
  imports: [AuthModule, UsersModule],
  controllers: [LinkPagesController, AccountPagesController, EmailChangePagesController, AccountLifecyclePagesController, MfaPagesController, OidcPagesController],
  providers: [BrowserSessions, FormGuard, SignedInFormGuard, MfaSecondStepPage, ReauthenticationView],
})
export class WebPagesModule {}
