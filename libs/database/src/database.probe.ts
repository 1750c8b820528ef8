import { MikroORM } from '@mikro-orm/postgresql';
import { ormOptions } from './orm.options';

/** Connects once; returns why PostgreSQL cannot be reached, or undefined when it answers. */
export async function databaseUnreachableReason(url: string): Promise<string | undefined> {
  const orm = await MikroORM.init(ormOptions(url, { connect: false, pool: { min: 0, max: 1 } }));
  try {
    const status = await orm.checkConnection();
    return status.ok ? undefined : (status.reason ?? 'unknown error').split('\n')[0];
  } finally {
    await orm.close(true);
  }
}
