import { MikroOrmModule } from '@mikro-orm/nestjs';
import { Module } from '@nestjs/common';
import { AccountActivity } from './account-activity.entity';
import { AccountActivityPurger } from './account-activity.purger';
import { AccountActivityService } from './account-activity.service';
import { User } from './user.entity';
import { UsersService } from './users.service';

/** User accounts: the repository for the flows that change them, UsersService for profiles, the activity record. */
@Module({
  imports: [MikroOrmModule.forFeature([User, AccountActivity])],
  providers: [UsersService, AccountActivityService, AccountActivityPurger],
  exports: [MikroOrmModule, UsersService, AccountActivityService, AccountActivityPurger],
})
export class UsersModule {}
