import { ConfigModule, type ConfigFactory } from '@nestjs/config';
import { Env } from './env';

/**
 * The configuration module for one process, loading only the namespaces it uses. `.env` is read
 * only when NODE_ENV is explicitly `development`; tests and production (NODE_ENV unset included)
 * take the real environment.
 */
export function configModuleFor(namespaces: ConfigFactory[]) {
  return ConfigModule.forRoot({
    isGlobal: true,
    ignoreEnvFile: new Env().raw('NODE_ENV') !== 'development',
    load: namespaces,
  });
}
