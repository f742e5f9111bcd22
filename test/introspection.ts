/**
 * A tiny OAuth 2.0 token-introspection endpoint (RFC 7662) for the test Dovecot's oauth2 passdb
 * (see scripts/test-server.sh). Dovecot posts `token=<access token>`; the answer is active, with
 * the user's name, for the tokens this server was given, and inactive for every other token.
 */
import fs from "node:fs";
import http from "node:http";
import path from "node:path";

/** The port the main Dovecot instance asks (scripts/test-server.sh: INTROSPECTION_PORT). */
export const introspectionPort = Number(process.env.IMAP_TEST_INTROSPECTION_PORT ?? 10980);

/** True while the process `pid` runs. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Dovecot asks one introspection port, so the test files that start an endpoint there (they run
 * in parallel workers) take turns: each holds this lock from its first test to its last. A lock
 * left by a worker that died is taken over. Returns the release function.
 */
export async function holdIntrospectionPort(timeoutMs = 600_000): Promise<() => void> {
  const stateDir = process.env.IMAP_TEST_STATE_DIR ?? "/tmp/imap-component-dovecot";
  const lock = path.join(stateDir, `introspection-${introspectionPort}.lock`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: "wx" });
      return () => fs.rmSync(lock, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const holder = Number(fs.readFileSync(lock, { encoding: "utf8", flag: "a+" }));
    if (!Number.isInteger(holder) || holder <= 0 || !alive(holder)) {
      fs.rmSync(lock, { force: true });
      continue;
    }
    if (Date.now() > deadline)
      throw new Error(`the introspection port is still held by process ${holder}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export interface Introspection {
  /** How many tokens the server was asked about so far. */
  readonly asked: number;
  /** Stops listening and drops Dovecot's kept-alive connections, so no handle stays open. */
  close(): Promise<void>;
}

/**
 * Starts the endpoint on loopback. `active` maps each valid token to its user; `expired` tokens
 * are known but answered inactive (RFC 7662 gives an expired token no other answer); every other
 * token is inactive too.
 */
export async function startIntrospection(
  active: Record<string, string>,
  expired: Record<string, string> = {},
  port = introspectionPort,
): Promise<Introspection> {
  let asked = 0;
  const now = () => Math.floor(Date.now() / 1000);
  const answer = (token: string): Record<string, unknown> => {
    if (Object.hasOwn(active, token)) {
      return {
        active: true,
        username: active[token],
        scope: "imap",
        token_type: "Bearer",
        exp: now() + 3600,
      };
    }
    if (Object.hasOwn(expired, token))
      return { active: false, username: expired[token], exp: now() - 60 };
    return { active: false };
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      // no kept-alive connections: each answer closes its socket, so none outlives a test
      res.setHeader("connection", "close");
      if (req.method !== "POST" || req.url !== "/introspect") {
        res.writeHead(404).end();
        return;
      }
      asked += 1;
      const token = new URLSearchParams(Buffer.concat(chunks).toString("utf8")).get("token") ?? "";
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer(token)));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    get asked() {
      return asked;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        if (!server.listening) {
          resolve();
          return;
        }
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
