import http from 'node:http';
import https from 'node:https';
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent';

/*
 * Every request the service makes to an address someone else chose (WebSub callbacks,
 * IndexNow, external hubs) goes through here. The address is checked when the
 * connection is made, after the DNS lookup (request-filtering-agent), so a name that
 * resolves to a loopback, private, link-local or reserved address is refused too, and
 * DNS cannot be used to get around the check. OUTBOUND_ALLOW_PRIVATE lifts it (tests,
 * closed networks). Redirects are not followed; time and the bytes read back are bounded.
 */

export interface OutboundRequest {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** The whole exchange, connection to last byte. */
  timeoutMs?: number;
  /** Read back at most this many bytes; the rest is dropped (`truncated`). */
  maxBytes?: number;
}

export interface OutboundResponse {
  status: number;
  body: string;
  truncated: boolean;
}

export class OutboundError extends Error {}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_BYTES = 64 * 1024;

const agents = new Map<string, http.Agent>();

function agentFor(protocol: 'http:' | 'https:', allowPrivate: boolean): http.Agent {
  const key = `${protocol}${allowPrivate}`;
  let agent = agents.get(key);
  if (!agent) {
    const options = { allowPrivateIPAddress: allowPrivate, keepAlive: true, maxSockets: 50 };
    agent = protocol === 'https:' ? new RequestFilteringHttpsAgent(options) : new RequestFilteringHttpAgent(options);
    agents.set(key, agent);
  }
  return agent;
}

/** An http(s) URL, or an OutboundError saying why not. */
export function outboundUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new OutboundError('not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OutboundError(`scheme ${url.protocol} is not http: or https:`);
  if (url.username || url.password) throw new OutboundError('a URL with credentials is not taken');
  return url;
}

export function outboundRequest(target: string, allowPrivate: boolean, request: OutboundRequest = {}): Promise<OutboundResponse> {
  const url = outboundUrl(target);
  const maxBytes = request.maxBytes ?? DEFAULT_MAX_BYTES;
  const send = url.protocol === 'https:' ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = send(url, {
      method: request.method ?? 'GET',
      headers: { 'user-agent': 'Newsroom', ...request.headers },
      agent: agentFor(url.protocol as 'http:' | 'https:', allowPrivate),
    });
    const timer = setTimeout(() => req.destroy(new OutboundError(`no answer within ${request.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`)), request.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err instanceof OutboundError ? err : new OutboundError(err.message));
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let truncated = false;
      const finish = () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), truncated });
      };
      res.on('data', (chunk: Buffer) => {
        if (truncated) return;
        const room = maxBytes - size;
        if (chunk.length > room) {
          chunks.push(chunk.subarray(0, room));
          truncated = true;
          res.destroy();
          finish();
          return;
        }
        chunks.push(chunk);
        size += chunk.length;
      });
      res.on('end', finish);
      res.on('error', (err) => {
        if (truncated) return;
        clearTimeout(timer);
        reject(new OutboundError(err.message));
      });
    });
    req.end(request.body);
  });
}
