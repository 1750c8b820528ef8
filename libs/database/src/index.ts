export { DatabaseModule } from './database.module';
export { ormOptions } from './orm.options';
export { PreparedStatements } from './prepared-statements';
export { databaseUnreachableReason } from './database.probe';
export { BatchedPurge, type BatchedPurgeOptions } from './batched-purge';
export { sourceName, type SqlFragment } from './sql-fragment';
