import { Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import {
  adminConfig,
  appConfig,
  authConfig,
  configModuleFor,
  databaseConfig,
  httpConfig,
  loggingModuleFor,
  oidcConfig,
  payloadConfig,
  mfaConfig,
  queueConfig,
  rateLimitConfig,
} from '@accounts/config';
import { DatabaseModule } from '@accounts/database';
import { MailQueueModule } from '@accounts/mail/outbox';
import { AuthHttpModule } from './auth/auth-http.module';
import { QueueDashboardModule } from './ops/dashboard/queue-dashboard.module';
import { HealthModule } from './ops/health/health.module';
import { ProblemDetailsFilter } from './http/problem-details.filter';
import { createValidationPipe } from './http/validation.pipe';
import { MetricsModule } from './ops/metrics/metrics.module';
import { UsersHttpModule } from './users/users-http.module';
import { WebPagesModule } from './web/web-pages.module';

/** The configuration namespaces the API reads; the worker's differ. */
export const API_CONFIG = [appConfig, httpConfig, databaseConfig, queueConfig, authConfig, payloadConfig, mfaConfig, rateLimitConfig, adminConfig, oidcConfig];

/** The API: one feature module per concern; the root holds only what is global to it. */
@Module({
  imports: [
    configModuleFor(API_CONFIG),
    loggingModuleFor('api'),
    DatabaseModule,
    MailQueueModule,
    AuthHttpModule,
    UsersHttpModule,
    WebPagesModule,
    HealthModule,
    MetricsModule,
    QueueDashboardModule,
  ],
  providers: [
    { provide: APP_FILTER, useClass: ProblemDetailsFilter },
    { provide: APP_PIPE, useFactory: createValidationPipe },
  ],
})
export class ApiModule {}
