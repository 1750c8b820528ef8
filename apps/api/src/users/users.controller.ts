import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { JwtAuthGuard } from '@accounts/auth';
import { UsersService, type UserRow } from '@accounts/users';
import { API_PREFIX } from '../api-prefix.constant';
import { UserResponse } from '../auth/dto/responses.dto';
import { SessionUser } from '../auth/request-context.decorators';
import { BEARER_AUTH } from '../ops/docs/openapi.docs';
import { ApiProblems, SERVER_PROBLEMS } from '../http/problem.openapi';

@ApiTags('users')
@ApiBearerAuth(BEARER_AUTH)
@ApiProblems({ 401: ['UNAUTHENTICATED'], 503: ['SERVICE_UNAVAILABLE'] }, SERVER_PROBLEMS)
@Controller(`${API_PREFIX}/users`)
@UseGuards(JwtAuthGuard)
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get('me')
  @ApiOperation({ summary: 'The signed-in user' })
  @ApiOkResponse({ type: UserResponse })
  me(@SessionUser() user: UserRow) {
    return { user: this.users.viewOf(user) };
  }
}
