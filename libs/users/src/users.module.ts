import { MikroOrmModule } from '@mikro-orm/nestjs';
import { Module } from '@nestjs/common';
import { User } from './user.entity';
import { UsersService } from './users.service';

/** User accounts: the repository for the flows that change them, UsersService for profiles. */
@Module({
  imports: [MikroOrmModule.forFeature([User])],
  providers: [UsersService],
  exports: [MikroOrmModule, UsersService],
})
export class UsersModule {}
