/**
 * The Content-Security-Policy of a bundled single-page UI we serve on a path of its own (Swagger UI
 * on /docs, bull-board on the dashboard): its scripts, styles, images and fonts come from us, it sets
 * inline styles, and it is never framed. Every other path keeps the strict default policy.
 * `navigation` is what <base> and form targets may be: 'none' for a read-only UI, 'self' for one
 * that posts back.
 */
export function relaxedCsp(navigation: "'none'" | "'self'"): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    `base-uri ${navigation}`,
    `form-action ${navigation}`,
  ].join('; ');
}
