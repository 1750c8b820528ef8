import { Module } from '@nestjs/common';
import { AuthModule } from '@accounts/auth';
import { AuthController } from './auth.controller';
import { OidcController } from './oidc.controller';

/** The JSON API of the auth flows: /auth/*. */
@Module({
  imports: [AuthModule],
  controllers: [AuthController, OidcController],
})
export class AuthHttpModule {}
