import { Controller, Get, Header, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { RedisHealthIndicator } from '@accounts/redis';
import { SmtpHealthIndicator } from './smtp.health';

const CHECK_TIMEOUT_MS = 1_000;
const SMTP_TIMEOUT_MS = 3_000;

type CheckState = 'up' | 'down' | 'not_configured';

/** Liveness and readiness for the orchestrator (WORKER_PORT). */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly redis: RedisHealthIndicator,
    private readonly smtp: SmtpHealthIndicator,
  ) {}

  /** The process answers. */
  @Get('live')
  @Header('Cache-Control', 'no-store')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Ready while Redis answers and the SMTP server (when SMTP_URL is set) accepts us; 503 otherwise. */
  @Get('ready')
  @Header('Cache-Control', 'no-store')
  async ready(): Promise<HealthCheckResult & { checks: Record<string, CheckState> }> {
    try {
      return withChecks(
        await this.health.check([() => this.redis.pingCheck('redis', CHECK_TIMEOUT_MS), () => this.smtp.check('smtp', SMTP_TIMEOUT_MS)]),
      );
    } catch (error) {
      if (error instanceof ServiceUnavailableException) {
        throw new ServiceUnavailableException(withChecks(error.getResponse() as HealthCheckResult));
      }
      throw error;
    }
  }
}

/** Terminus' report plus each check in one word. */
function withChecks(result: HealthCheckResult): HealthCheckResult & { checks: Record<string, CheckState> } {
  const checks: Record<string, CheckState> = {};
  for (const [key, detail] of Object.entries(result.details)) {
    checks[key] = detail.status === 'down' ? 'down' : detail.configured === false ? 'not_configured' : 'up';
  }
  return { ...result, checks };
}
