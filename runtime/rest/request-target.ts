import { HttpError } from './http-error.js';

/** A request target split the way Connect's Jetty + Jersey see it. */
export interface RequestTarget {
  /** The path's segments as sent, each without its matrix parameters (`;x=1`), not decoded. */
  raw: string[];
  /** The same segments percent-decoded once (UTF-8, invalid bytes as U+FFFD, as Jetty does). */
  decoded: string[];
  query: URLSearchParams;
  /** The path as sent (for logs). */
  path: string;
}

const ABSOLUTE_FORM = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i;
const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * Splits a request target on its raw `/`, decoding each segment once, and nothing more: no `.`/`..`
 * resolution, no merging of `//`, no second decoding. So `/connectors/%2e%2e/admin/loggers` is four segments
 * (a connector named `..` and two more), `//example.com/connectors` starts with an empty segment, and
 * `a%2Fb` is one segment `a/b`. One trailing slash is dropped, as Jersey matches `/connectors/` too.
 * Malformed escapes and NUL are a 400 (Jetty's "Bad Message 400"), never an exception that escapes.
 */
export function parseRequestTarget(target: string | undefined): RequestTarget {
  let t = target ?? '/';
  const hash = t.indexOf('#');
  if (hash >= 0) t = t.slice(0, hash);
  const absolute = ABSOLUTE_FORM.exec(t);
  if (absolute) t = t.slice(absolute[0].length) || '/';
  const q = t.indexOf('?');
  const path = q >= 0 ? t.slice(0, q) : t;
  const query = new URLSearchParams(q >= 0 ? t.slice(q + 1) : '');
  if (!path.startsWith('/')) throw new HttpError(400, 'HTTP 400 Bad Request: the request target is not a path');
  const raw = path
    .slice(1)
    .split('/')
    .map((s) => {
      const semi = s.indexOf(';');
      return semi >= 0 ? s.slice(0, semi) : s;
    });
  if (raw.length > 0 && raw[raw.length - 1] === '') raw.pop();
  return { raw, decoded: raw.map(decodeSegment), query, path };
}

function decodeSegment(segment: string): string {
  if (!segment.includes('%')) return segment;
  const parts: Buffer[] = [];
  let from = 0;
  for (let i = segment.indexOf('%'); i >= 0; i = segment.indexOf('%', from)) {
    const hex = segment.slice(i + 1, i + 3);
    if (!/^[0-9a-fA-F]{2}$/.test(hex)) {
      throw new HttpError(400, 'HTTP 400 Bad Request: malformed percent-encoding in the path');
    }
    if (hex === '00') throw new HttpError(400, 'HTTP 400 Bad Request: NUL in the path');
    parts.push(Buffer.from(segment.slice(from, i), 'utf8'), Buffer.from([parseInt(hex, 16)]));
    from = i + 3;
  }
  parts.push(Buffer.from(segment.slice(from), 'utf8'));
  return utf8.decode(Buffer.concat(parts));
}
