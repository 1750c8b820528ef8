import { Module } from '@nestjs/common';
import { OpsListener } from './ops.listener';

/** The operators' listener, shared by the modules that serve on it (metrics, docs, dashboard). */
@Module({
  providers: [OpsListener],
  exports: [OpsListener],
})
export class OpsModule {}
