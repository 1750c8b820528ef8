import { Controller, Get, Header, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, MikroOrmHealthIndicator, type HealthCheckResult, type HealthIndicatorResult } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import { RedisHealthIndicator } from '@accounts/redis';
import { ApiProblems, SERVER_PROBLEMS } from '../../http/problem.openapi';

const CHECK_TIMEOUT_MS = 2_000;

class LiveReport {
  @ApiProperty({ enum: ['ok'] })
  status: 'ok';
}

class ReadyChecks {
  @ApiProperty({ enum: ['up', 'down'] })
  database: 'up' | 'down';

  @ApiProperty({ enum: ['up', 'down'] })
  redis: 'up' | 'down';
}

class ReadyReport {
  @ApiProperty({ enum: ['ok', 'error', 'shutting_down'], description: 'ok while PostgreSQL answers; Redis never changes it' })
  status: HealthCheckResult['status'];

  @ApiProperty({ description: 'Checks that are up, with their details', type: 'object', additionalProperties: true })
  info: HealthIndicatorResult;

  @ApiProperty({ description: 'Checks that are down, with their details', type: 'object', additionalProperties: true })
  error: HealthIndicatorResult;

  @ApiProperty({ description: 'Every check', type: 'object', additionalProperties: true })
  details: HealthIndicatorResult;

  @ApiProperty({ type: ReadyChecks, description: 'Each check in one word' })
  checks: ReadyChecks;
}

/**
 * Liveness says the process answers; readiness says it can serve. PostgreSQL down means not ready
 * (503); Redis down only delays email (the outbox holds it), so it is reported but keeps the API in
 * service behind a load balancer.
 */
@ApiTags('operations')
@ApiProblems(SERVER_PROBLEMS)
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: MikroOrmHealthIndicator,
    private readonly redis: RedisHealthIndicator,
  ) {}

  @Get('live')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Liveness: the process answers (whatever PostgreSQL and Redis do)' })
  @ApiOkResponse({ type: LiveReport })
  live(): LiveReport {
    return { status: 'ok' };
  }

  @Get('ready')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Readiness: 200 while PostgreSQL answers; Redis is reported in the body only' })
  @ApiOkResponse({ type: ReadyReport })
  @ApiServiceUnavailableResponse({ type: ReadyReport, description: 'PostgreSQL does not answer, or the process is shutting down' })
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<ReadyReport> {
    const [critical, redis] = await Promise.all([
      this.checkCritical(),
      this.redis.pingCheck('redis', CHECK_TIMEOUT_MS),
    ]);
    reply.status(critical.status === 'ok' ? 200 : 503);
    const redisUp = redis.redis.status === 'up';
    return {
      status: critical.status,
      info: { ...critical.info, ...(redisUp ? redis : {}) },
      error: { ...critical.error, ...(redisUp ? {} : redis) },
      details: { ...critical.details, ...redis },
      checks: { database: critical.details.database?.status === 'up' ? 'up' : 'down', redis: redisUp ? 'up' : 'down' },
    };
  }

  /** What decides readiness: PostgreSQL. Terminus answers a failed check with a 503 exception. */
  private async checkCritical(): Promise<HealthCheckResult> {
    try {
      return await this.health.check([() => this.database.pingCheck('database', { timeout: CHECK_TIMEOUT_MS })]);
    } catch (error) {
      if (error instanceof ServiceUnavailableException) return error.getResponse() as HealthCheckResult;
      throw error;
    }
  }
}
