export { OneTimeToken, TokenPurpose } from './one-time-token.entity';
export { TokensService, type PeekedToken, type SpentToken } from './tokens.service';
export { InvalidTokenError } from './tokens.errors';
export { generateSecretToken, hashSecretToken } from './secret-token.util';
export { TokensModule } from './tokens.module';
