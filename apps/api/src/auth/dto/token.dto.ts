import { ApiProperty } from '@nestjs/swagger';
import { IsOpaqueToken } from './field-rules.decorators';

export class TokenDto {
  @ApiProperty({ maxLength: 512, description: 'The token of the emailed confirmation link' })
  @IsOpaqueToken()
  token: string;
}
