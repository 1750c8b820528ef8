import { Inject, Injectable } from '@nestjs/common';
import type { Job } from 'bullmq';
import { PARAMS_PROVIDER_TOKEN, type Params } from 'nestjs-pino';
import { storage, Store } from 'nestjs-pino/storage';
import type { Logger } from 'pino';

/**
 * Runs a job's work with the event id (the job id) and the event name on every log line written
 * meanwhile, by any class, the way nestjs-pino gives each HTTP request its request id.
 */
@Injectable()
export class JobLogContext {
  private readonly root: Logger;

  constructor(@Inject(PARAMS_PROVIDER_TOKEN) params: Params) {
    // loggingModuleFor() hands nestjs-pino the process's root logger.
    this.root = (params.pinoHttp as { logger: Logger }).logger;
  }

  run<T>(job: Pick<Job, 'id' | 'name'>, work: () => T): T {
    return storage.run(new Store(this.root.child({ eventId: job.id, event: job.name })), work);
  }
}
