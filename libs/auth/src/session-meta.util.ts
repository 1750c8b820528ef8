import type { ClientMeta } from '@accounts/users';

/** What a session remembers about the client that opened or last refreshed it. */
export type SessionMeta = ClientMeta;
