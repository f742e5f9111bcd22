/**
 * Loopback fault injection: a silent listener that accepts and never greets, and a TCP proxy
 * that forwards to the real server until the client sends a chosen command, then cuts or stalls
 * the connection. These are faults a real server cannot produce on demand.
 */
import net from "node:net";

export interface Fault {
  port: number;
  close: () => Promise<void>;
}

/**
 * Listens on a free loopback port; `close()` destroys every socket in `sockets` (each accepted
 * connection is added; add outgoing ones yourself) and stops the server.
 */
export function listen(server: net.Server, sockets: Set<net.Socket>): Promise<Fault> {
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const address = server.address() as net.AddressInfo;
      resolve({
        port: address.port,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/** A connection to `target`, closed with the others by `close()`. */
export function connectUpstream(
  target: { host: string; port: number },
  sockets: Set<net.Socket>,
): net.Socket {
  const upstream = net.connect(target.port, target.host);
  sockets.add(upstream);
  upstream.on("close", () => sockets.delete(upstream));
  upstream.on("error", () => undefined);
  return upstream;
}

/** Accepts connections and never says a word. */
export function silentServer(): Promise<Fault> {
  const sockets = new Set<net.Socket>();
  return listen(net.createServer(), sockets);
}

/**
 * Forwards to `target` until the client sends a line containing `trigger` (a cleartext session
 * is needed to see it), then `cut`s both sides or `stall`s: keeps both open and forwards nothing.
 */
export function faultyProxy(
  target: { host: string; port: number },
  trigger: RegExp,
  mode: "cut" | "stall",
): Promise<Fault> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = connectUpstream(target, sockets);
    let broken = false;
    upstream.on("data", (chunk) => {
      if (!broken) client.write(chunk);
    });
    client.on("data", (chunk) => {
      if (broken) return;
      if (trigger.test(chunk.toString("latin1"))) {
        broken = true;
        if (mode === "cut") {
          client.destroy();
          upstream.destroy();
        }
        return;
      }
      upstream.write(chunk);
    });
    client.on("close", () => upstream.destroy());
  });
  return listen(server, sockets);
}

/**
 * Forwards to `target`, and `afterMs` after accepting a connection either cuts it or (`stall`)
 * keeps it open and forwards nothing more (also when the session is compressed).
 */
export function cutAfterProxy(
  target: { host: string; port: number },
  afterMs: number,
  mode: "cut" | "stall" = "cut",
): Promise<Fault> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = connectUpstream(target, sockets);
    client.pipe(upstream);
    upstream.pipe(client);
    const timer = setTimeout(() => {
      if (mode === "stall") {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
        return;
      }
      client.destroy();
      upstream.destroy();
    }, afterMs);
    client.on("close", () => {
      clearTimeout(timer);
      upstream.destroy();
    });
  });
  return listen(server, sockets);
}
