import { Module } from '@nestjs/common';
import { AuthModule } from '@accounts/auth';
import { UsersModule } from '@accounts/users';
import { IdentitiesController } from './identities.controller';
import { UsersController } from './users.controller';

/** The JSON API of accounts: /users/*. */
@Module({
  imports: [AuthModule, UsersModule],
  controllers: [UsersController, IdentitiesController],
})
export class UsersHttpModule {}
