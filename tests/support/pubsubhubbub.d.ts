/** The parts of the `pubsubhubbub` package (a WebSub subscriber, untyped) that tests/websub.test.ts uses. */
declare module 'pubsubhubbub' {
  import type { EventEmitter } from 'node:events';
  import type { IncomingHttpHeaders, Server } from 'node:http';

  interface Subscriber extends EventEmitter {
    callbackUrl: string;
    secret: string | false;
    server: Server;
    listen(port: number, host: string): void;
    subscribe(topic: string, hub: string, callback: (error: Error | null) => void): void;
    unsubscribe(topic: string, hub: string, callback: (error: Error | null) => void): void;
  }
  export interface Distribution {
    topic: string;
    feed: Buffer;
    headers: IncomingHttpHeaders;
  }
  const pubsubhubbub: { createServer(options: { callbackUrl?: string; secret?: string }): Subscriber };
  export default pubsubhubbub;
}
