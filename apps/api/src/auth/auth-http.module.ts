import { Module } from '@nestjs/common';
import { AuthModule } from '@accounts/auth';
import { AuthController } from './auth.controller';
import { MfaController } from './mfa.controller';

/** The JSON API of the auth flows: /auth/*, MFA included. */
@Module({
  imports: [AuthModule],
  controllers: [AuthController, MfaController],
})
export class AuthHttpModule {}
