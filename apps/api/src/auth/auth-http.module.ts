import { Module } from '@nestjs/common';
import { AuthModule } from '@accounts/auth';
import { AuthController } from './auth.controller';
import { EmailChangeController } from './email-change.controller';
import { MfaController } from './mfa.controller';

/** The JSON API of the auth flows: /auth/*, MFA included. */
@Module({
  imports: [AuthModule],
  controllers: [AuthController, EmailChangeController, MfaController],
})
export class AuthHttpModule {}
