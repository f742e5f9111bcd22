/**
 * A TCP proxy that delays each direction by a fixed one-way delay (optionally also by a
 * bandwidth limit) and counts, per connection, the flights and bytes each side sent. TLS passes
 * through untouched, so it measures what a client pays across a real network without reading
 * the conversation.
 */
import net from "node:net";
import { performance } from "node:perf_hooks";

/**
 * Flights of one end of a connection: a flight is a burst of data this end sends after it last
 * received something. Events are given in the order this end sees them.
 */
export class FlightCounter {
  flights = 0;
  bytes = 0;
  private receivedSinceSend = true;

  sent(bytes: number): void {
    if (this.receivedSinceSend) this.flights += 1;
    this.receivedSinceSend = false;
    this.bytes += bytes;
  }

  received(): void {
    this.receivedSinceSend = true;
  }
}

/** The flights of a sequence of events seen at one end ("s" sent n bytes, "r" received). */
export function countFlights(events: ("s" | "r")[]): number {
  const counter = new FlightCounter();
  for (const event of events) {
    if (event === "s") counter.sent(1);
    else counter.received();
  }
  return counter.flights;
}

export interface WireSession {
  clientFlights: number;
  serverFlights: number;
  bytesUp: number;
  bytesDown: number;
  /** Milliseconds from accepting the client to both sides closed. */
  durationMs: number;
  closed: boolean;
}

export interface WireOptions {
  /** One-way delay added to each direction, in milliseconds. */
  delayMs: number;
  /** Bytes per second on each direction; unlimited when absent. */
  bytesPerSecond?: number;
}

export interface WireProxy {
  port: number;
  /** Every connection since the last `take()`, in the order they were accepted. */
  take: () => WireSession[];
  /** Resolves when every connection accepted so far has closed. */
  idle: () => Promise<void>;
  setOptions: (options: WireOptions) => void;
  close: () => Promise<void>;
}

/**
 * One direction of the link: chunks leave in order, each `delayMs` after it was sent (and after
 * the link has carried the chunks before it at `bytesPerSecond`). The TCP handshake costs one
 * round trip before the first byte moves, as on a real network.
 */
class Link {
  private freeAt: number;
  private lastDelivery = 0;

  constructor(
    private readonly options: WireOptions,
    opensAt: number,
  ) {
    this.freeAt = opensAt;
  }

  /** When a chunk of `bytes` sent now is delivered (performance.now() time). */
  deliveryTime(bytes: number): number {
    const start = Math.max(performance.now(), this.freeAt);
    const transmit = this.options.bytesPerSecond ? (bytes / this.options.bytesPerSecond) * 1000 : 0;
    this.freeAt = start + transmit;
    this.lastDelivery = Math.max(this.lastDelivery, this.freeAt + this.options.delayMs);
    return this.lastDelivery;
  }
}

function schedule(at: number, work: () => void): void {
  const wait = at - performance.now();
  if (wait <= 0) work();
  else setTimeout(work, wait);
}

export function wireProxy(
  target: { host: string; port: number },
  initial: WireOptions,
): Promise<WireProxy> {
  let options = { ...initial };
  let sessions: WireSession[] = [];
  const open = new Set<Promise<void>>();
  const sockets = new Set<net.Socket>();

  const server = net.createServer((client) => {
    const started = performance.now();
    const session: WireSession = {
      clientFlights: 0,
      serverFlights: 0,
      bytesUp: 0,
      bytesDown: 0,
      durationMs: 0,
      closed: false,
    };
    sessions.push(session);
    const atClient = new FlightCounter();
    const atServer = new FlightCounter();
    const linkOptions = { ...options };
    const handshake = linkOptions.delayMs * 2;
    const up = new Link(linkOptions, started + handshake);
    const down = new Link(linkOptions, started + handshake);
    const upstream = net.connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => undefined);
      // a chunk leaves when its delay is over, never held for the TCP acknowledgement of the one
      // before (Nagle's algorithm), which the network it stands for would not add
      socket.setNoDelay(true);
    }
    let closedSides = 0;
    const closing: Promise<void> = new Promise<void>((resolve) => {
      const onClose = (socket: net.Socket) => () => {
        sockets.delete(socket);
        closedSides += 1;
        if (closedSides === 2) {
          session.durationMs = performance.now() - started;
          session.closed = true;
          open.delete(closing);
          resolve();
        }
      };
      client.on("close", onClose(client));
      upstream.on("close", onClose(upstream));
    });
    open.add(closing);
    const update = () => {
      session.clientFlights = atClient.flights;
      session.serverFlights = atServer.flights;
      session.bytesUp = atClient.bytes;
      session.bytesDown = atServer.bytes;
    };
    client.on("data", (chunk: Buffer) => {
      atClient.sent(chunk.length);
      update();
      schedule(up.deliveryTime(chunk.length), () => {
        atServer.received();
        if (!upstream.destroyed) upstream.write(chunk);
      });
    });
    upstream.on("data", (chunk: Buffer) => {
      atServer.sent(chunk.length);
      update();
      schedule(down.deliveryTime(chunk.length), () => {
        atClient.received();
        if (!client.destroyed) client.write(chunk);
      });
    });
    // A close travels like data: after what was sent before it.
    client.on("end", () => schedule(up.deliveryTime(0), () => upstream.end()));
    upstream.on("end", () => schedule(down.deliveryTime(0), () => client.end()));
    client.on("close", () => schedule(up.deliveryTime(0), () => upstream.destroy()));
    upstream.on("close", () => schedule(down.deliveryTime(0), () => client.destroy()));
  });

  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const address = server.address() as net.AddressInfo;
      resolve({
        port: address.port,
        take: () => {
          const taken = sessions;
          sessions = [];
          return taken;
        },
        idle: async () => {
          await Promise.all([...open]);
        },
        setOptions: (next) => {
          options = { ...next };
        },
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
