import { Body, Controller, Delete, Get, Header, HttpCode, Param, Post, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { AuthService, JwtAuthGuard, SessionNotFoundError, SessionsService, type Principal, type SessionMeta } from '@accounts/auth';
import { ChangePasswordDto } from './dto/change-password.dto';
import { EmailDto } from './dto/email.dto';
import { LoginDto } from './dto/login.dto';
import { RefreshTokenDto } from './dto/refresh-token.dto';
import { RegisterDto } from './dto/register.dto';
import { ResetPasswordDto } from './dto/reset-password.dto';
import { TokenDto } from './dto/token.dto';
import { API_PREFIX } from '../api-prefix';
import { ClientMeta, CurrentPrincipal } from './request-context.decorators';

const ACCEPTED = { status: 'accepted' } as const;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

@Controller(`${API_PREFIX}/auth`)
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly sessions: SessionsService,
  ) {}

  /** 201 with the user when confirmation is off; 202 (for new and taken addresses alike) when on. */
  @Post('register')
  async register(@Body() body: RegisterDto, @Res({ passthrough: true }) reply: FastifyReply) {
    const outcome = await this.auth.register(body);
    reply.status('user' in outcome ? 201 : 202);
    return outcome;
  }

  @Post('login')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  login(@Body() body: LoginDto, @ClientMeta() meta: SessionMeta) {
    return this.auth.login(body.email, body.password, meta);
  }

  @Post('refresh')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  refresh(@Body() body: RefreshTokenDto, @ClientMeta() meta: SessionMeta) {
    return this.auth.refresh(body.refreshToken, meta);
  }

  @Post('logout')
  @HttpCode(204)
  async logout(@Body() body: RefreshTokenDto): Promise<void> {
    await this.auth.logout(body.refreshToken);
  }

  @Get('sessions')
  @UseGuards(JwtAuthGuard)
  listSessions(@CurrentPrincipal() principal: Principal) {
    return this.sessions.list(principal.userId, principal.sessionId);
  }

  @Delete('sessions/:id')
  @UseGuards(JwtAuthGuard)
  @HttpCode(204)
  async revokeSession(@CurrentPrincipal() principal: Principal, @Param('id') id: string): Promise<void> {
    if (!UUID.test(id)) throw new SessionNotFoundError();
    await this.sessions.revoke(principal.userId, id);
  }

  @Delete('sessions')
  @UseGuards(JwtAuthGuard)
  @HttpCode(204)
  async revokeAllSessions(@CurrentPrincipal() principal: Principal): Promise<void> {
    await this.auth.signOutEverywhere(principal);
  }

  @Post('email/confirm')
  @HttpCode(200)
  async confirmEmail(@Body() body: TokenDto) {
    return { user: await this.auth.confirmEmail(body.token) };
  }

  @Post('email/resend')
  @HttpCode(202)
  async resendConfirmation(@Body() body: EmailDto) {
    await this.auth.resendConfirmation(body.email);
    return ACCEPTED;
  }

  @Post('password/forgot')
  @HttpCode(202)
  async forgotPassword(@Body() body: EmailDto) {
    await this.auth.forgotPassword(body.email);
    return ACCEPTED;
  }

  @Post('password/reset')
  @HttpCode(204)
  async resetPassword(@Body() body: ResetPasswordDto): Promise<void> {
    await this.auth.resetPassword(body.token, body.password);
  }

  @Post('password/change')
  @UseGuards(JwtAuthGuard)
  @HttpCode(204)
  async changePassword(@CurrentPrincipal() principal: Principal, @Body() body: ChangePasswordDto): Promise<void> {
    await this.auth.changePassword(principal, body.currentPassword, body.newPassword);
  }
}
