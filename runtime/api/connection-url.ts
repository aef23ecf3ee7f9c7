/**
 * Database URLs for plugins: credentials given as separate config keys written into the URL, and a form of the
 * URL that is safe to show.
 *
 * Drivers such as pg parse a connection string over separate user/password options: a URL without a user parses
 * as an empty user that falls back to PGUSER or the OS user, so the configured user would be silently lost.
 */
export function urlWithCredentials(url: string, user?: string | null, password?: string | null): string {
  if (!user && !password) return url;
  const u = new URL(url);
  if (user) u.username = encodeURIComponent(user);
  if (password) u.password = encodeURIComponent(password);
  return u.toString();
}

/** The URL with its password masked, for messages and logs; an unparseable URL is not echoed at all. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable url>';
  }
}
