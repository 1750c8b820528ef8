import { Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { AuthModule } from '@accounts/auth';
import {
  adminConfig,
  appConfig,
  authConfig,
  configModuleFor,
  databaseConfig,
  httpConfig,
  loggingModuleFor,
  payloadConfig,
  queueConfig,
  rateLimitConfig,
} from '@accounts/config';
import { DatabaseModule } from '@accounts/database';
import { MailQueueModule } from '@accounts/mail';
import { AuthController } from './auth/auth.controller';
import { QueueDashboardModule } from './dashboard/queue-dashboard.module';
import { HealthModule } from './health/health.module';
import { ProblemDetailsFilter } from './http/problem-details.filter';
import { apiRequestLogging } from './http/request-logging';
import { createValidationPipe } from './http/validation.pipe';
import { MetricsModule } from './metrics/metrics.module';
import { UsersController } from './users/users.controller';
import { AccountPagesController } from './web/account-pages.controller';
import { LinkPagesController } from './web/link-pages.controller';
import { BrowserSessions, FormGuard, SignedInFormGuard } from './web/page-support';

/** The configuration namespaces the API reads; the worker's differ. */
export const API_CONFIG = [appConfig, httpConfig, databaseConfig, queueConfig, authConfig, payloadConfig, rateLimitConfig, adminConfig];

@Module({
  imports: [
    configModuleFor(API_CONFIG),
    loggingModuleFor('api', apiRequestLogging),
    DatabaseModule,
    MailQueueModule,
    AuthModule,
    HealthModule,
    MetricsModule,
    QueueDashboardModule,
  ],
  controllers: [AuthController, UsersController, LinkPagesController, AccountPagesController],
  providers: [
    BrowserSessions,
    FormGuard,
    SignedInFormGuard,
    { provide: APP_FILTER, useClass: ProblemDetailsFilter },
    { provide: APP_PIPE, useFactory: createValidationPipe },
  ],
})
export class ApiModule {}
