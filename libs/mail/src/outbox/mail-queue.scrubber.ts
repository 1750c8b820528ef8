import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import { withinDeadline } from '@accounts/config';
import { MAIL_QUEUE } from '../contract';

/** Failed jobs are read this many at a time, and at most this many in all. */
const PAGE = 100;
const MAX_SCANNED = 10_000;
const SCRUB_TIMEOUT_MS = 30_000;

/**
 * Takes a deleted user's data out of Redis where nothing would take it out soon: failed jobs are
 * kept for inspection for MAIL_FAILED_RETENTION (completed ones are removed at once). Jobs still waiting or retrying are left
 * to be sent with what they were sealed with (their tokens are gone, so their links are dead).
 */
@Injectable()
export class MailQueueScrubber implements OnApplicationShutdown {
  private readonly logger = new Logger(MailQueueScrubber.name);
  private readonly pending = new Set<Promise<void>>();

  constructor(@InjectQueue(MAIL_QUEUE) private readonly queue: Queue) {}

  /**
   * Removes, in the background, the failed jobs about `userId`: the caller does not wait for Redis
   * (which may be down). A failure is logged; what is left is the operator's to clean.
   */
  forgetUserSoon(userId: string): void {
    const scrub = withinDeadline(this.forgetUser(userId), SCRUB_TIMEOUT_MS, () => {
      throw new Error(`no answer within ${SCRUB_TIMEOUT_MS} ms`);
    })
      .then((removed) => {
        if (removed > 0) this.logger.log(`Removed ${removed} failed mail jobs of a deleted account`);
      })
      .catch((error: unknown) => this.logger.warn(`Failed mail jobs of a deleted account not removed (${error instanceof Error ? error.message : String(error)})`))
      .finally(() => this.pending.delete(scrub));
    this.pending.add(scrub);
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.pending);
  }

  /** Removes the failed jobs whose payload names `userId`; returns how many. */
  async forgetUser(userId: string): Promise<number> {
    let removed = 0;
    let start = 0;
    for (let scanned = 0; scanned < MAX_SCANNED; scanned += PAGE) {
      const jobs: Array<Job | undefined> = await this.queue.getFailed(start, start + PAGE - 1);
      let removedHere = 0;
      for (const job of jobs) {
        if ((job?.data as { userId?: unknown } | undefined)?.userId !== userId) continue;
        await job!.remove();
        removedHere++;
      }
      removed += removedHere;
      if (jobs.length < PAGE) break;
      // What was removed shifted the rest of the list up.
      start += PAGE - removedHere;
    }
    return removed;
  }
}
