/** What the API knows of the client behind a request: its address and user agent. */
export interface ClientMeta {
  userAgent?: string;
  ip?: string;
}

// Control characters are dropped so a stored user agent can never forge a log line or header.
export function cleanClientMeta(meta: ClientMeta): { userAgent: string | null; ip: string | null } {
  const clean = (value: string | undefined, max: number) =>
    value ? value.replace(/[\u0000-\u001f\u007f]/g, '').slice(0, max) || null : null;
  return { userAgent: clean(meta.userAgent, 512), ip: clean(meta.ip, 64) };
}
