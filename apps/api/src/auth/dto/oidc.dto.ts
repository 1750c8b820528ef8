import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, MaxLength, ValidateIf } from 'class-validator';
import { CODE_VERIFIER, S256_CHALLENGE } from '@accounts/auth';
import { IsOpaqueToken } from './field-rules.decorators';

/** The two PKCE parameters come together or not at all. */
const sendsPkce = (query: OidcAuthorizeQueryDto) => query.code_challenge !== undefined || query.code_challenge_method !== undefined;

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

  @ApiPropertyOptional({
    pattern: S256_CHALLENGE.source,
    minLength: 43,
    maxLength: 43,
    description:
      'PKCE (RFC 7636): BASE64URL(SHA-256(code_verifier)), unpadded. Required when redirect_uri is not https (a private-use scheme or a loopback ' +
      'address: else 400 PKCE_REQUIRED); recommended for every app. The exchange then needs the code_verifier.',
  })
  @ValidateIf(sendsPkce)
  @Matches(S256_CHALLENGE, { message: 'code_challenge must be the S256 challenge: 43 base64url characters' })
  code_challenge?: string;

  @ApiPropertyOptional({ enum: ['S256'], description: 'Required with code_challenge; only S256 is accepted' })
  @ValidateIf(sendsPkce)
  @IsIn(['S256'], { message: 'code_challenge_method must be S256, sent together with code_challenge' })
  code_challenge_method?: 'S256';
}

export class OidcExchangeDto {
  @ApiProperty({ maxLength: 512, description: 'The one-time code from the redirect (60 seconds, single use)' })
  @IsOpaqueToken()
  code: string;

  @ApiPropertyOptional({
    pattern: CODE_VERIFIER.source,
    minLength: 43,
    maxLength: 128,
    description:
      'The PKCE verifier whose challenge the authorize request sent: required exactly when it sent one. A missing or wrong verifier answers ' +
      'INVALID_TOKEN and spends the code.',
  })
  @IsOptional()
  @Matches(CODE_VERIFIER, { message: 'code_verifier must be 43 to 128 characters of A-Z, a-z, 0-9, "-", ".", "_", "~"' })
  code_verifier?: string;

  @ApiPropertyOptional({
    maxLength: 2048,
    description: 'The redirect_uri of the authorize request, as OAuth clients send it; when given, another value answers INVALID_TOKEN and spends the code',
  })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  redirect_uri?: string;
}
