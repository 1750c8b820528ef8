import { Module } from '@nestjs/common';
import { AuthModule } from '@accounts/auth';
import { AuthController } from './auth.controller';
import { EmailChangeController } from './email-change.controller';

/** The JSON API of the auth flows: /auth/*. */
@Module({
  imports: [AuthModule],
  controllers: [AuthController, EmailChangeController],
})
export class AuthHttpModule {}
