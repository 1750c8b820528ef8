import { Module } from '@nestjs/common';
import { AuthModule } from '@accounts/auth';
import { AccountPagesController } from './account-pages.controller';
import { LinkPagesController } from './link-pages.controller';
import { OidcPagesController } from './oidc-pages.controller';
import { BrowserSessions } from './browser-sessions.service';
import { FormGuard, SignedInFormGuard } from './form.guards';

/** The server-rendered pages (sign-in, registration, links from emails, the account page). */
@Module({
  imports: [AuthModule],
  controllers: [LinkPagesController, AccountPagesController, OidcPagesController],
  providers: [BrowserSessions, FormGuard, SignedInFormGuard],
})
export class WebPagesModule {}
