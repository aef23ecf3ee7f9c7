import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { RestAuth } from './server.js';

/** The header the CLI sends with the local `user@host` (recorded as "who" when the REST API has no auth). */
export const USER_HEADER = 'x-erpstream-user';
const MAX = 200;

/** A header value reduced to printable text of bounded length: it is recorded and shown, never trusted. */
function clean(v: string): string {
  return v
    .replace(/[^\x20-\x7e]/g, '')
    .trim()
    .slice(0, MAX);
}

/**
 * Who made an authorized request, for the operations audit log. With authentication on, the authenticated principal
 * (the basic user, `bearer` for the shared token, the client certificate's CN with mutual TLS); the CLI's
 * `user@host` is added as what it claims, since it is not verified. Without authentication, what the client says,
 * else `anonymous@<address>`.
 */
export function requestPrincipal(req: IncomingMessage, auth: RestAuth | undefined): string {
  const raw = req.headers[USER_HEADER];
  const claimed = typeof raw === 'string' && clean(raw) !== '' ? clean(raw) : null;
  let verified: string | null = null;
  if (auth?.type === 'basic') verified = auth.username;
  else if (auth?.type === 'bearer') verified = 'bearer';
  const socket = req.socket as Partial<TLSSocket>;
  if (socket.authorized && typeof socket.getPeerCertificate === 'function') {
    const cn = socket.getPeerCertificate()?.subject?.CN;
    if (typeof cn === 'string' && cn !== '') verified = verified === null ? `cn=${clean(cn)}` : verified;
  }
  if (verified !== null) return claimed !== null && claimed !== verified ? `${verified} (${claimed})` : verified;
  return claimed ?? `anonymous@${req.socket.remoteAddress ?? 'unknown'}`;
}
