import { Body, Controller, Delete, Get, Header, HttpCode, Patch, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AccountDeletionService, AccountExportService, JwtAuthGuard, type Principal, type SessionMeta } from '@accounts/auth';
import { AccountActivityService, UsersService, userViewOfRow, type UserRow } from '@accounts/users';
import { API_PREFIX } from '../api-prefix.constant';
import { REAUTHENTICATION_PROBLEMS, REAUTHENTICATION_RULE } from '../auth/dto/field-rules.decorators';
import { UserResponse } from '../auth/dto/responses.dto';
import { ClientMeta, CurrentPrincipal, SessionUser } from '../auth/request-context.decorators';
import { BEARER_AUTH } from '../ops/docs/openapi.docs';
import { ApiProblems, BODY_PROBLEMS, SERVER_PROBLEMS } from '../http/problem.openapi';
import { ActivityQueryDto } from './dto/activity-query.dto';
import { DeleteAccountDto } from './dto/delete-account.dto';
import { AccountExportResponse, ActivityPageResponse } from './dto/lifecycle-responses.dto';
import { UpdateProfileDto } from './dto/update-profile.dto';

/** Rows a page of activity holds when the caller does not say. */
const DEFAULT_ACTIVITY_LIMIT = 20;

@ApiTags('users')
@ApiBearerAuth(BEARER_AUTH)
@ApiProblems({ 401: ['UNAUTHENTICATED'], 503: ['SERVICE_UNAVAILABLE'] }, SERVER_PROBLEMS)
@Controller(`${API_PREFIX}/users`)
@UseGuards(JwtAuthGuard)
export class UsersController {
  constructor(
    private readonly users: UsersService,
    private readonly activity: AccountActivityService,
    private readonly deletion: AccountDeletionService,
    private readonly exports: AccountExportService,
  ) {}

  @Get('me')
  @ApiOperation({ summary: 'The signed-in user' })
  @ApiOkResponse({ type: UserResponse })
  me(@SessionUser() user: UserRow) {
    return { user: userViewOfRow(user) };
  }

  @Patch('me')
  @ApiOperation({ summary: 'Change the profile', description: 'Sets the display name (1–100 characters, no control characters), or clears it with `null`.' })
  @ApiOkResponse({ type: UserResponse })
  @ApiProblems(BODY_PROBLEMS)
  async updateProfile(@CurrentPrincipal() principal: Principal, @Body() body: UpdateProfileDto) {
    return { user: await this.users.rename(principal.userId, body.name) };
  }

  @Delete('me')
  @ApiOperation({
    summary: 'Delete the account',
    description:
      'Deletes the account with its sessions and emailed links at once; its activity keeps only the user id, and a `user.deleted` notice is mailed to the address, which can register again. ' +
      `${REAUTHENTICATION_RULE} Without a password the body is \`{}\`. Wrong current passwords count per account (429 once used up).`,
  })
  @ApiNoContentResponse({ description: 'The account is gone; every token of it is dead' })
  // The operation's 401 replaces the controller's: UNAUTHENTICATED is named again.
  @ApiProblems(BODY_PROBLEMS, REAUTHENTICATION_PROBLEMS, { 401: ['UNAUTHENTICATED'], 429: ['TOO_MANY_REQUESTS'] })
  @HttpCode(204)
  async deleteAccount(@CurrentPrincipal() principal: Principal, @Body() body: DeleteAccountDto, @ClientMeta() meta: SessionMeta): Promise<void> {
    await this.deletion.deleteAccount(principal, body.currentPassword, meta);
  }

  @Get('me/activity')
  @ApiOperation({
    summary: "The account's activity",
    description: 'Sign-ins (and failed ones), password and session events, newest first, with the IP and user agent of each. Page with `before` = the `next` of the previous page.',
  })
  @ApiOkResponse({ type: ActivityPageResponse })
  @ApiProblems({ 400: ['VALIDATION_FAILED'] })
  activityPage(@CurrentPrincipal() principal: Principal, @Query() query: ActivityQueryDto) {
    return this.activity.page(principal.userId, { limit: query.limit ?? DEFAULT_ACTIVITY_LIMIT, before: query.before });
  }

  @Get('me/export')
  @ApiOperation({ summary: 'Everything stored about the user', description: 'Profile, sessions, emailed links, linked identities, two-step sign-in state and activity, as JSON; never a hash, token or secret. Sent with Cache-Control: no-store.' })
  @ApiOkResponse({ type: AccountExportResponse })
  @Header('Cache-Control', 'no-store')
  exportData(@CurrentPrincipal() principal: Principal): Promise<AccountExportResponse> {
    return this.exports.exportFor(principal.userId);
  }
}
