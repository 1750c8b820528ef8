import { ApiProperty } from '@nestjs/swagger';
import { IsOpaqueToken } from './field-rules.decorators';

/** Body of refresh and logout. */
export class RefreshTokenDto {
  @ApiProperty({ maxLength: 512, description: 'The refresh token of a sign-in or of the last refresh' })
  @IsOpaqueToken()
  refreshToken: string;
}
