import { MikroOrmModule } from '@mikro-orm/nestjs';
import { Module } from '@nestjs/common';
import { OneTimeToken } from './one-time-token.entity';
import { TokensService } from './tokens.service';

@Module({
  imports: [MikroOrmModule.forFeature([OneTimeToken])],
  providers: [TokensService],
  exports: [TokensService],
})
export class TokensModule {}
