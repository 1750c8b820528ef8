import { Controller, Delete, Get, HttpCode, Param, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IdentitiesService, JwtAuthGuard, type Principal, type SessionMeta } from '@accounts/auth';
import { API_PREFIX } from '../api-prefix.constant';
import { ClientMeta, CurrentPrincipal } from '../auth/request-context.decorators';
import { ApiProblems, SERVER_PROBLEMS } from '../http/problem.openapi';
import { BEARER_AUTH } from '../ops/docs/openapi.docs';

export class IdentityProviderResponse {
  @ApiProperty({ description: 'The provider id of OIDC_PROVIDERS', example: 'google' })
  id: string;

  @ApiProperty({ example: 'Google' })
  label: string;
}

export class IdentityResponse {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ description: 'The issuer of the identity (ID token `iss`)', example: 'https://accounts.google.com' })
  issuer: string;

  @ApiProperty({ type: IdentityProviderResponse, nullable: true, description: 'The configured provider of that issuer; null once it is no longer configured' })
  provider: IdentityProviderResponse | null;

  @ApiProperty({ type: String, nullable: true, description: 'The address the provider asserted when the identity was linked' })
  email: string | null;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;
}

/** The caller's identities at external providers (SPEC §12). */
@ApiTags('users')
@ApiBearerAuth(BEARER_AUTH)
@ApiProblems({ 401: ['UNAUTHENTICATED'], 503: ['SERVICE_UNAVAILABLE'] }, SERVER_PROBLEMS)
@Controller(`${API_PREFIX}/users/me/identities`)
@UseGuards(JwtAuthGuard)
export class IdentitiesController {
  constructor(private readonly identities: IdentitiesService) {}

  @Get()
  @ApiOperation({ summary: "The caller's linked identities at external providers", description: 'Oldest first.' })
  @ApiOkResponse({ type: [IdentityResponse] })
  list(@CurrentPrincipal() principal: Principal) {
    return this.identities.list(principal.userId);
  }

  @Delete(':id')
  @ApiOperation({
    summary: 'Unlink one of the caller\'s identities',
    description: 'Refused with 409 LAST_SIGN_IN_METHOD when the account has no password and no other identity: set a password through forgot-password first.',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiNoContentResponse({ description: 'The identity no longer signs in to this account' })
  @ApiProblems({ 404: ['NOT_FOUND'], 409: ['LAST_SIGN_IN_METHOD'], 414: ['URI_TOO_LONG'] })
  @HttpCode(204)
  async unlink(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @ClientMeta() meta: SessionMeta): Promise<void> {
    await this.identities.unlink(principal.userId, id, meta);
  }
}
