/**
 * A cleartext proxy that rewrites IMAP lines on their way through: it makes the test server
 * behave like servers we cannot run here (no ALREADYEXISTS code, no MOVE, a COPY that does
 * nothing, a UID FETCH answered with another message). Works line by line (latin1 keeps bytes).
 */
import net from "node:net";
import type { Fault } from "./proxy";
import { connectUpstream, listen } from "./proxy";

export interface Rewrites {
  /** Applied to each line the client sends (with its CRLF). */
  toServer?: Rewrite;
  /** Applied to each line the server sends (with its CRLF); a promise holds the line back until it settles. */
  toClient?: Rewrite;
}

type Rewrite = (line: string) => string | Promise<string>;

export type Proxy = Fault;

function pipeLines(from: net.Socket, to: net.Socket, rewrite: Rewrite): void {
  let pending = "";
  // Lines leave in the order they came, also while a rewrite holds one back.
  let queue = Promise.resolve();
  from.on("data", (chunk: Buffer) => {
    pending += chunk.toString("latin1");
    const end = pending.lastIndexOf("\n");
    if (end < 0) return;
    const complete = pending.slice(0, end + 1);
    pending = pending.slice(end + 1);
    const lines = complete.match(/[^\n]*\n/g) ?? [];
    queue = queue.then(async () => {
      const out: string[] = [];
      for (const line of lines) out.push(await rewrite(line));
      if (!to.destroyed) to.write(Buffer.from(out.join(""), "latin1"));
    });
  });
}

export function rewriteProxy(
  target: { host: string; port: number },
  rewrites: Rewrites,
): Promise<Proxy> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = connectUpstream(target, sockets);
    pipeLines(client, upstream, rewrites.toServer ?? ((line) => line));
    pipeLines(upstream, client, rewrites.toClient ?? ((line) => line));
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  return listen(server, sockets);
}
