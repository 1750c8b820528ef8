import { Module } from '@nestjs/common';
import { AuthModule } from '@accounts/auth';
import { AuthController } from './auth.controller';
import { EmailChangeController } from './email-change.controller';
import { MfaController } from './mfa.controller';
import { OidcController } from './oidc.controller';

/** The JSON API of the auth flows: /auth/*, MFA included. */
@Module({
  imports: [AuthModule],
  controllers: [AuthController, EmailChangeController, MfaController, OidcController],
})
export class AuthHttpModule {}
