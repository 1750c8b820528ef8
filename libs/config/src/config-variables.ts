/** The processes that read configuration: the API (and its migrate command) and the mail worker. */
export type ConfigProcess = 'api' | 'worker';

export interface ConfigVariable {
  name: string;
  /** As an operator would write it; null when there is no default (unset means off or generated). */
  default: string | null;
  processes: readonly ConfigProcess[];
  description: string;
}

const both: readonly ConfigProcess[] = ['api', 'worker'];
const api: readonly ConfigProcess[] = ['api'];
const worker: readonly ConfigProcess[] = ['worker'];

/**
 * Every environment variable the processes read: the one list `.env.example`, the README's
 * configuration table, docker-compose.yml and the config readers in this library are checked
 * against (test/ops/config-consistency.spec.ts). Add a variable here when a config namespace
 * starts reading it.
 */
export const CONFIG_VARIABLES: readonly ConfigVariable[] = [
  { name: 'NODE_ENV', default: 'production', processes: both, description: 'unset = `production` (secrets and argon2 floors enforced); only `development` or `test` relaxes that; `.env` is read in development only; `npm start` sets `development`' },
  { name: 'LOG_LEVEL', default: 'info', processes: both, description: 'fatal, error, warn, info, debug, trace or silent' },
  { name: 'APP_NAME', default: 'Accounts', processes: both, description: 'product name in emails, pages and the API docs' },
  { name: 'APP_URL', default: 'http://localhost:3000', processes: both, description: 'public base URL; every emailed link and the JWT issuer come from it' },

  { name: 'PORT', default: '3000', processes: api, description: 'HTTP port of the API' },
  { name: 'OPS_PORT', default: '3002', processes: api, description: 'operators\' port of the API: `/metrics`, `/docs`, `/admin/queues`' },
  { name: 'OPS_HOST', default: '127.0.0.1', processes: api, description: 'address the operators\' port listens on; keep it off the public network' },
  { name: 'TRUST_PROXY', default: '0', processes: api, description: 'proxy hops whose X-Forwarded-For is trusted' },
  { name: 'CORS_ORIGINS', default: null, processes: api, description: 'comma-separated browser origins allowed to call the API' },
  { name: 'DATABASE_URL', default: 'postgres://postgres:postgres@localhost:5432/accounts', processes: api, description: 'PostgreSQL' },
  { name: 'DATABASE_POOL_SIZE', default: '10', processes: api, description: 'connections per API process' },

  { name: 'JWT_SECRET', default: null, processes: api, description: 'HS256 key, at least 32 bytes; required in production, random per start otherwise' },
  { name: 'ACCESS_TOKEN_TTL', default: '15m', processes: api, description: 'access JWT lifetime' },
  { name: 'REFRESH_TOKEN_TTL', default: '30d', processes: api, description: 'absolute session lifetime' },
  { name: 'CONFIRMATION_TOKEN_TTL', default: '24h', processes: api, description: 'lifetime of an email confirmation link' },
  { name: 'RESET_TOKEN_TTL', default: '30m', processes: api, description: 'lifetime of a password reset link' },
  { name: 'EMAIL_CHANGE_TOKEN_TTL', default: '1h', processes: api, description: 'lifetime of the link mailed to a requested new address' },
  { name: 'EMAIL_CHANGE_UNDO_TTL', default: '7d', processes: api, description: 'how long the old address can undo an email change' },
  { name: 'EMAIL_CONFIRMATION_REQUIRED', default: 'false', processes: api, description: 'sign-in needs a confirmed address' },
  { name: 'UNCONFIRMED_ACCOUNT_TTL', default: '7d', processes: api, description: 'with confirmation on, unconfirmed accounts older than this are deleted' },
  { name: 'AUDIT_RETENTION', default: '180d', processes: api, description: 'account activity (sign-ins, password and session events) is deleted once older than this' },
  { name: 'PASSWORD_MIN_LENGTH', default: '12', processes: api, description: '8 to 64; the maximum length is 128' },
  { name: 'ARGON2_MEMORY_KIB', default: '19456', processes: api, description: 'argon2id memory; production refuses less' },
  { name: 'ARGON2_TIME_COST', default: '2', processes: api, description: 'argon2id iterations; production refuses less' },
  { name: 'ARGON2_PARALLELISM', default: '1', processes: api, description: 'argon2id lanes; production refuses less' },

  { name: 'RATE_LIMIT_ENABLED', default: 'true', processes: api, description: '`false` turns every limit off (tests only; refused in production)' },
  { name: 'RATE_LIMIT_LOGIN_PER_ACCOUNT', default: '10/15m', processes: api, description: 'failed sign-ins per address (known or not)' },
  { name: 'RATE_LIMIT_AUTH_PER_IP', default: '100/15m', processes: api, description: 'requests to /api/v1/auth/* per client IP' },
  { name: 'RATE_LIMIT_MAIL_PER_ADDRESS', default: '3/1h', processes: api, description: 'emails triggered per address (register, forgot, resend)' },
  { name: 'RATE_LIMIT_TOKEN_GUESS_PER_IP', default: '20/15m', processes: api, description: 'invalid confirmation or reset tokens per client IP' },
  { name: 'RATE_LIMIT_EMAIL_CHANGE_PER_ACCOUNT', default: '3/1h', processes: api, description: 'email change requests per account' },
  { name: 'RATE_LIMIT_MFA_PER_ACCOUNT', default: '10/15m', processes: api, description: 'wrong MFA codes (TOTP or recovery) per account' },

  { name: 'OIDC_PROVIDERS', default: null, processes: api, description: 'comma-separated ids of external OpenID Providers (`google,corp`); each id reads the `OIDC_<ID>_*` variables below' },
  { name: 'OIDC_REDIRECT_ALLOWLIST', default: null, processes: api, description: 'comma-separated redirect URIs API consumers may ask for, matched exactly (never by prefix)' },

  { name: 'ADMIN_USERNAME', default: null, processes: api, description: 'queue dashboard user; the dashboard exists only with ADMIN_PASSWORD' },
  { name: 'ADMIN_PASSWORD', default: null, processes: api, description: 'queue dashboard password; at least 12 characters in production' },

  { name: 'REDIS_URL', default: 'redis://localhost:6379', processes: both, description: 'BullMQ and the rate limits' },
  { name: 'QUEUE_PREFIX', default: 'accounts', processes: both, description: 'BullMQ key prefix; `{accounts}` on Redis Cluster' },
  { name: 'PAYLOAD_KEY', default: null, processes: both, description: '32 bytes, base64, shared by the API and every worker; seals tokens inside events' },
  { name: 'MFA_KEY', default: null, processes: api, description: '32 bytes, base64; encrypts TOTP secrets at rest and keys the recovery-code digests; required in production' },
  { name: 'MAIL_ATTEMPTS', default: '10', processes: api, description: 'attempts per email before it is kept as failed' },
  { name: 'OUTBOX_RETENTION', default: '7d', processes: api, description: 'published outbox events are deleted once older than this' },
  { name: 'MAIL_FAILED_RETENTION', default: '7d', processes: api, description: 'failed mail jobs are removed from Redis once failed this long ago (re-drive them before)' },

  { name: 'WORKER_PORT', default: '3001', processes: worker, description: 'health and metrics port of the mail worker' },
  { name: 'SMTP_URL', default: null, processes: worker, description: '`smtp://user:pass@host:587`; unset writes `.eml` files to MAIL_OUTBOX_DIR (production: only when MAIL_OUTBOX_DIR is set)' },
  { name: 'SMTP_ALLOW_PLAINTEXT', default: 'false', processes: worker, description: 'production requires TLS (`smtps://` or STARTTLS on `smtp://`); `true` allows plaintext SMTP (a local relay, Mailpit)' },
  { name: 'MAIL_OUTBOX_DIR', default: 'var/mail', processes: worker, description: 'where messages go without SMTP_URL' },
  { name: 'MAIL_FROM', default: 'Accounts <no-reply@localhost>', processes: worker, description: 'sender' },
  { name: 'MAIL_CONCURRENCY', default: '10', processes: worker, description: 'jobs in flight per worker process' },
  { name: 'MAIL_RATE_PER_SECOND', default: null, processes: worker, description: 'global send cap across all workers' },
  { name: 'MAIL_TEMPLATES_DIR', default: null, processes: worker, description: 'templates here shadow the built-in ones (also used by `npm run mail:preview`)' },
  { name: 'MAIL_LOCK_DURATION', default: '30s', processes: worker, description: 'how long a running job stays locked to its worker' },
  { name: 'MAIL_SHUTDOWN_TIMEOUT', default: '25s', processes: worker, description: 'on SIGTERM, how long jobs in flight may take' },
];

/**
 * Families of variables whose names depend on another variable's value: one per id in
 * OIDC_PROVIDERS. Documented in the README table and `.env.example` like the others (checked by
 * test/ops/config-consistency.spec.ts), read by libs/config/src/oidc.config.ts.
 */
export const CONFIG_VARIABLE_PATTERNS: readonly ConfigVariable[] = [
  { name: 'OIDC_<ID>_ISSUER', default: null, processes: api, description: 'the provider\'s issuer URL (discovery runs from it); https in production' },
  { name: 'OIDC_<ID>_CLIENT_ID', default: null, processes: api, description: 'client id registered with the provider' },
  { name: 'OIDC_<ID>_CLIENT_SECRET', default: null, processes: api, description: 'client secret registered with the provider' },
  { name: 'OIDC_<ID>_SCOPES', default: 'openid email profile', processes: api, description: 'scopes asked for; must include openid and email' },
  { name: 'OIDC_<ID>_LABEL', default: null, processes: api, description: 'name on the sign-in button (default: the id, capitalised)' },
];

/** The variables a process reads. */
export function configVariablesOf(process: ConfigProcess): ConfigVariable[] {
  return CONFIG_VARIABLES.filter((variable) => variable.processes.includes(process));
}
