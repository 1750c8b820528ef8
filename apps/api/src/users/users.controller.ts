import { Controller, Get, UseGuards } from '@nestjs/common';
import { AuthService, JwtAuthGuard, type Principal } from '@accounts/auth';
import { API_PREFIX } from '../api-prefix';
import { CurrentPrincipal } from '../auth/request-context.decorators';

@Controller(`${API_PREFIX}/users`)
@UseGuards(JwtAuthGuard)
export class UsersController {
  constructor(private readonly auth: AuthService) {}

  @Get('me')
  async me(@CurrentPrincipal() principal: Principal) {
    return { user: await this.auth.me(principal) };
  }
}
