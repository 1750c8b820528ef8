import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { IsOpaqueToken } from './field-rules.decorators';

/** The query of `GET /auth/oidc/:provider/authorize`, named as OAuth names them. */
export class OidcAuthorizeQueryDto {
  @ApiProperty({ maxLength: 2048, description: 'Where the one-time code goes: exactly one of OIDC_REDIRECT_ALLOWLIST (compared as a whole string)' })
  @IsString()
  @MaxLength(2048)
  redirect_uri: string;

  @ApiPropertyOptional({
    maxLength: 512,
    description: 'An opaque value of the app, handed back unchanged with the code (or error); use it to tie the redirect to the request that started it',
  })
  @IsOptional()
  @Matches(/^[\x21-\x7e]{1,512}$/, { message: 'state must be 1 to 512 printable ASCII characters' })
  state?: string;
}

export class OidcExchangeDto {
  @ApiProperty({ maxLength: 512, description: 'The one-time code from the redirect (60 seconds, single use)' })
  @IsOpaqueToken()
  code: string;
}
