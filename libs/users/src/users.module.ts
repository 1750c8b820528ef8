import { MikroOrmModule } from '@mikro-orm/nestjs';
import { Module } from '@nestjs/common';
import { AccountActivity } from './account-activity.entity';
import { AccountActivityService } from './account-activity.service';
import { User } from './user.entity';
import { UsersService } from './users.service';

/** User accounts: the repository for the flows that change them, UsersService for profiles, the activity record. */
@Module({
  imports: [MikroOrmModule.forFeature([User, AccountActivity])],
  providers: [UsersService, AccountActivityService],
  exports: [MikroOrmModule, UsersService, AccountActivityService],
})
export class UsersModule {}
