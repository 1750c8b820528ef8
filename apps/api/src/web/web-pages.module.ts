import { Module } from '@nestjs/common';
import { AuthModule } from '@accounts/auth';
import { AccountPagesController } from './account-pages.controller';
import { LinkPagesController } from './link-pages.controller';
import { BrowserSessions, FormGuard, SignedInFormGuard } from './page-support';

/** The server-rendered pages (sign-in, registration, links from emails, the account page). */
@Module({
  imports: [AuthModule],
  controllers: [LinkPagesController, AccountPagesController],
  providers: [BrowserSessions, FormGuard, SignedInFormGuard],
})
export class WebPagesModule {}
