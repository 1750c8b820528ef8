import { Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { AuthModule } from '@accounts/auth';
import { appConfig, authConfig, configModuleFor, databaseConfig, httpConfig, payloadConfig, queueConfig } from '@accounts/config';
import { DatabaseModule } from '@accounts/database';
import { MailQueueModule } from '@accounts/mail';
import { AuthController } from './auth/auth.controller';
import { HealthController } from './health/health.controller';
import { ProblemDetailsFilter } from './http/problem-details.filter';
import { createValidationPipe } from './http/validation.pipe';
import { UsersController } from './users/users.controller';
import { WebController } from './web/web.controller';

/** The configuration namespaces the API reads; the worker's differ. */
export const API_CONFIG = [appConfig, httpConfig, databaseConfig, queueConfig, authConfig, payloadConfig];

@Module({
  imports: [
    configModuleFor(API_CONFIG),
    DatabaseModule,
    MailQueueModule,
    AuthModule,
  ],
  controllers: [AuthController, UsersController, WebController, HealthController],
  providers: [
    { provide: APP_FILTER, useClass: ProblemDetailsFilter },
    { provide: APP_PIPE, useFactory: createValidationPipe },
  ],
})
export class ApiModule {}
