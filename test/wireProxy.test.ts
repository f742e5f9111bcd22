import net from "node:net";
import { countFlights, FlightCounter, wireProxy } from "../scripts/wireProxy";

describe("flight counting", () => {
  test("a flight is what one end sends after it last received", () => {
    expect(countFlights([])).toBe(0);
    expect(countFlights(["s"])).toBe(1);
    expect(countFlights(["s", "s", "s"])).toBe(1);
    expect(countFlights(["r", "s", "r", "s", "s", "r"])).toBe(2);
    expect(countFlights(["s", "r", "r", "s", "r", "s"])).toBe(3);
  });

  test("bytes add up over every chunk, whatever the flights", () => {
    const counter = new FlightCounter();
    counter.sent(10);
    counter.sent(5);
    counter.received();
    counter.sent(7);
    expect([counter.flights, counter.bytes]).toEqual([2, 22]);
  });
});

/** A server that answers each line "n" with n lines "ok", written one by one. */
function lineServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    let pending = "";
    socket.on("data", (chunk) => {
      pending += chunk.toString();
      let end = pending.indexOf("\n");
      while (end >= 0) {
        const count = Number(pending.slice(0, end));
        pending = pending.slice(end + 1);
        for (let i = 0; i < count; i += 1) socket.write("ok\n");
        end = pending.indexOf("\n");
      }
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/** Sends each request once the answers to the previous one arrived; resolves with what came back. */
function converse(port: number, requests: number[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let received = "";
    let expected = 0;
    let next = 0;
    const send = () => {
      expected += requests[next] * 3;
      socket.write(`${requests[next]}\n`);
      next += 1;
    };
    socket.on("connect", send);
    socket.on("error", reject);
    socket.on("data", (chunk) => {
      received += chunk.toString();
      if (received.length < expected) return;
      if (next < requests.length) return send();
      socket.end();
      resolve(received);
    });
  });
}

describe("wireProxy", () => {
  test.each([0, 15])(
    "at %i ms one way, it passes every byte in order and counts each side's flights",
    async (delayMs) => {
      const target = await lineServer();
      const proxy = await wireProxy({ host: "127.0.0.1", port: target.port }, { delayMs });
      try {
        const answers = await converse(proxy.port, [1, 3, 2]);
        expect(answers).toBe("ok\n".repeat(6));
        await proxy.idle();
        const sessions = proxy.take();
        expect(sessions).toHaveLength(1);
        const [session] = sessions;
        expect({
          clientFlights: session.clientFlights,
          serverFlights: session.serverFlights,
          bytesUp: session.bytesUp,
          bytesDown: session.bytesDown,
          closed: session.closed,
        }).toEqual({ clientFlights: 3, serverFlights: 3, bytesUp: 6, bytesDown: 18, closed: true });
        expect(proxy.take()).toEqual([]);
      } finally {
        await proxy.close();
        await target.close();
      }
    },
  );
});
