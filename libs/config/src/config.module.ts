import { ConfigModule, type ConfigFactory } from '@nestjs/config';

/**
 * The configuration module for one process, loading only the namespaces it uses. `.env` is read
 * in development only; tests and production take the real environment.
 */
export function configModuleFor(namespaces: ConfigFactory[]) {
  const runtime = process.env.NODE_ENV ?? 'development';
  return ConfigModule.forRoot({
    isGlobal: true,
    ignoreEnvFile: runtime !== 'development',
    load: namespaces,
  });
}
