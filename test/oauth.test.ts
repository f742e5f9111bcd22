/**
 * The imapOAuth2 connection end to end: the test Dovecot checks each bearer token with the
 * introspection endpoint of test/introspection.ts (started here), exactly as a provider's IMAP
 * server checks its tokens. Nothing of IMAP is mocked.
 */
import { randomBytes } from "node:crypto";
import net from "node:net";
import { inspect } from "node:util";
import { ImapConnectionError, ImapError, translateError } from "../src/errors";
import {
  failure,
  harness,
  leaks,
  oauthConnection,
  openResources,
  resourcesAfter,
  rfc822,
  seedMailbox,
  server,
  tlsConnection,
  withDirect,
} from "./helpers";
import type { Introspection } from "./introspection";
import { holdIntrospectionPort, introspectionPort, startIntrospection } from "./introspection";

const USER = "test25";
const OTHER = "test26";
/** Shaped like real tokens (Microsoft's are JWTs, Google's start with ya29.): long, with dots and dashes. */
const TOKEN = `ya29.a0-${randomBytes(48).toString("base64url")}`;
const EXPIRED = `eyJ0eXAiOiJKV1QifQ.${randomBytes(32).toString("base64url")}.expired`;
const UNKNOWN = `ya29.unknown-${randomBytes(24).toString("base64url")}`;
const where = `127.0.0.1:${server.tlsPort}`;

let introspection: Introspection;
let releasePort: () => void = () => undefined;
const initially = openResources();

beforeAll(async () => {
  releasePort = await holdIntrospectionPort();
  introspection = await startIntrospection({ [TOKEN]: USER }, { [EXPIRED]: USER });
}, 600_000);

afterAll(async () => {
  await introspection.close();
  releasePort();
});

type Entry = { path: string };
type Polled = {
  resultType: string;
  payload: { body: { data: { messages: { uid: number; envelope: { subject: string } }[] } } };
};
type Status = {
  path: string;
  messages: number;
  unseen: number;
  uidNext: number;
  uidValidity: string;
};

/** A step logger that keeps every line, as the platform's log would. */
function recordingLogger() {
  const lines: string[] = [];
  const record = (...args: unknown[]) => {
    lines.push(
      args.map((arg) => (typeof arg === "string" ? arg : inspect(arg, { depth: 6 }))).join(" "),
    );
  };
  return {
    lines,
    logger: {
      metric: record,
      trace: record,
      debug: record,
      info: record,
      log: record,
      warn: record,
      error: record,
    },
  };
}

/**
 * A proxy to the cleartext port that hides AUTH=OAUTHBEARER from the capabilities, so the client
 * must use XOAUTH2, the only OAuth mechanism Microsoft 365 offers. It records which mechanism
 * the client chose (and nothing else the client sent).
 */
async function xoauth2OnlyProxy(): Promise<{
  port: number;
  mechanisms: string[];
  close: () => Promise<void>;
}> {
  const mechanisms: string[] = [];
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
  };
  const proxy = net.createServer((client) => {
    track(client);
    const upstream = net.connect(server.plainPort, server.host);
    track(upstream);
    upstream.on("data", (chunk: Buffer) =>
      client.write(chunk.toString("latin1").replace(/ AUTH=OAUTHBEARER/g, ""), "latin1"),
    );
    client.on("data", (chunk: Buffer) => {
      const chosen = /^\S+ AUTHENTICATE (\S+)/i.exec(chunk.toString("latin1"));
      if (chosen) mechanisms.push(chosen[1].toUpperCase());
      upstream.write(chunk);
    });
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const port = (proxy.address() as net.AddressInfo).port;
  const close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      proxy.close(() => resolve());
    });
  return { port, mechanisms, close };
}

/** The message for a token Dovecot refused; its OAuth error differs by mechanism (RFC 7628 for OAUTHBEARER, Google's format for XOAUTH2). */
const reauthorise = (user: string, at = where, oauthError = "status invalid_token") =>
  `The server at ${at} rejected the OAuth access token for "${user}". Re-authorise the connection (the token may have expired or been revoked, or lacks the IMAP scope), and check that the username is the mailbox's address. The server said: [AUTHENTICATIONFAILED] Authentication failed. (OAuth error: ${oauthError})`;

describe("imapOAuth2 with a valid token", () => {
  test("listMailboxes lists the mailboxes of the token's user, checked by the introspection endpoint", async () => {
    const { path } = await seedMailbox(USER, { prefix: "OAuthList", count: 0 });
    const asked = introspection.asked;
    const { data } = (await harness.action("listMailboxes", {
      connection: oauthConnection(USER, TOKEN),
    })) as { data: Entry[] };
    expect(introspection.asked).toBe(asked + 1);
    const paths = data.map((entry) => entry.path);
    expect(paths[0]).toBe("INBOX");
    expect(paths).toEqual(
      expect.arrayContaining(["Archive", "Drafts", "Junk", "Sent", "Trash", path]),
    );
    // the same mailboxes a password login of the same user sees
    const direct = await withDirect(USER, (client) => client.list());
    expect(new Set(paths)).toEqual(new Set(direct.map((entry) => entry.path)));
  });

  test("getStatus reads the counts of a mailbox", async () => {
    const { path, uids } = await seedMailbox(USER, {
      prefix: "OAuthStatus",
      count: 3,
      flags: (i) => (i === 0 ? ["\\Seen"] : []),
    });
    const { data } = (await harness.action("getStatus", {
      connection: oauthConnection(USER, TOKEN),
      mailbox: path,
    })) as { data: Status };
    const direct = await withDirect(USER, async (client) => {
      const status = await client.status(path, { uidValidity: true, highestModseq: true });
      if (!status) throw new Error(`status of ${path} failed`);
      return {
        uidValidity: String(status.uidValidity),
        highestModseq: String(status.highestModseq),
      };
    });
    // recent: no session has selected the mailbox, so all three are still \Recent
    expect(data).toEqual({
      path,
      messages: 3,
      recent: 3,
      unseen: 2,
      uidNext: uids[2] + 1,
      ...direct,
    });
  });

  test("the listMailboxes data source offers the token user's mailboxes", async () => {
    const { path } = await seedMailbox(USER, { prefix: "OAuthPicklist", count: 0 });
    const { result } = (await harness.dataSource("listMailboxes", {
      connection: oauthConnection(USER, TOKEN),
    })) as unknown as {
      result: { key: string; label: string }[];
    };
    expect(result[0]).toEqual({ key: "INBOX", label: "INBOX" });
    expect(result).toContainEqual({ key: path, label: path });
  });

  test("a New Emails poll delivers the new messages; a rejected token fails the poll and keeps the cursor", async () => {
    const { path } = await seedMailbox(USER, { prefix: "OAuthPoll", count: 1 });
    const instanceState: Record<string, unknown> = {};
    const quiet = recordingLogger().logger;
    const poll = async (token: string) =>
      (await harness.trigger(
        "newEmails",
        undefined,
        { connection: oauthConnection(USER, token), mailbox: path },
        { instanceState, logger: quiet },
      )) as unknown as Polled;
    const first = await poll(TOKEN);
    expect(first.resultType).toBe("polled_no_changes");
    const uids = await withDirect(USER, async (client) => {
      const appended: number[] = [];
      for (const subject of ["OAuth poll one", "OAuth poll two"]) {
        const result = await client.append(path, rfc822({ subject }));
        appended.push(result ? (result.uid ?? 0) : 0);
      }
      return appended;
    });

    const rejected = await failure(() => poll(UNKNOWN));
    expect(rejected).toBeInstanceOf(ImapConnectionError);
    expect(rejected.message).toContain("Re-authorise the connection");

    const second = await poll(TOKEN);
    expect(second.resultType).toBe("completed");
    expect(
      second.payload.body.data.messages.map((message) => [message.uid, message.envelope.subject]),
    ).toEqual([
      [uids[0], "OAuth poll one"],
      [uids[1], "OAuth poll two"],
    ]);
  });

  test("a server that offers only XOAUTH2 (as Microsoft 365 does) is logged in to with XOAUTH2", async () => {
    const proxy = await xoauth2OnlyProxy();
    try {
      const connection = oauthConnection(USER, TOKEN, {
        port: String(proxy.port),
        encryption: "none",
        caCertificate: "",
      });
      const { data } = (await harness.action("getStatus", { connection, mailbox: "INBOX" })) as {
        data: Status;
      };
      expect(data.path).toBe("INBOX");
      // a refused token ends the XOAUTH2 exchange cleanly, with the same clear error
      const rejected = oauthConnection(USER, UNKNOWN, {
        port: String(proxy.port),
        encryption: "none",
        caCertificate: "",
      });
      const err = await failure(() =>
        harness.action("getStatus", { connection: rejected, mailbox: "INBOX" }),
      );
      expect(err).toBeInstanceOf(ImapConnectionError);
      expect(err.message).toBe(
        reauthorise(USER, `127.0.0.1:${proxy.port}`, "status 401, required scope mail"),
      );
      expect(proxy.mechanisms).toEqual(["XOAUTH2", "XOAUTH2"]);
    } finally {
      await proxy.close();
    }
  });
});

describe("imapOAuth2 with a token the server does not accept", () => {
  test.each([
    ["an unknown token", UNKNOWN],
    ["an expired token", EXPIRED],
  ])(
    "%s is a connection error asking to re-authorise, with the server's answer",
    async (_name, token) => {
      const asked = introspection.asked;
      const err = await failure(() =>
        harness.action("listMailboxes", { connection: oauthConnection(USER, token) }),
      );
      expect(introspection.asked).toBe(asked + 1);
      expect(err).toBeInstanceOf(ImapConnectionError);
      expect(err.code).toBe("AUTHENTICATION_FAILED");
      expect(err.message).toBe(reauthorise(USER));
    },
  );

  test("the OAuth error a provider sends (Gmail: status and required scope) is part of the message", () => {
    const refusal = Object.assign(new Error("Command failed"), {
      authenticationFailed: true,
      responseStatus: "NO",
      serverResponseCode: "AUTHENTICATIONFAILED",
      responseText: "Invalid credentials (Failure)",
      oauthError: { status: "400", schemes: "Bearer", scope: "https://mail.google.com/" },
    });
    const connection = oauthConnection("someone@gmail.com", TOKEN, { host: "imap.gmail.com" });
    const scope = {
      host: "imap.gmail.com",
      port: 993,
      user: "someone@gmail.com",
      encryption: "tls" as const,
      oauth: true,
      secrets: [TOKEN],
      connection,
      timeouts: { connectMs: 1, greetingMs: 1, socketMs: 1 },
    };
    expect(translateError(refusal, scope).message).toBe(
      'The server at imap.gmail.com:993 rejected the OAuth access token for "someone@gmail.com". Re-authorise the connection (the token may have expired or been revoked, or lacks the IMAP scope), and check that the username is the mailbox\'s address. The server said: [AUTHENTICATIONFAILED] Invalid credentials (Failure) (OAuth error: status 400, required scope https://mail.google.com/)',
    );
  });

  test("a valid token used for another user's mailbox is rejected", async () => {
    const err = await failure(() =>
      harness.action("listMailboxes", { connection: oauthConnection(OTHER, TOKEN) }),
    );
    expect(err).toBeInstanceOf(ImapConnectionError);
    expect(err.message).toBe(reauthorise(OTHER));
  });

  test("the account password is not accepted as a token", async () => {
    const err = await failure(() =>
      harness.action("listMailboxes", { connection: oauthConnection(USER, server.password) }),
    );
    expect(err).toBeInstanceOf(ImapConnectionError);
    expect(err.message).toBe(reauthorise(USER));
  });

  test("a token is not accepted as a password, and is never sent to the token check", async () => {
    const asked = introspection.asked;
    const err = await failure(() =>
      harness.action("listMailboxes", { connection: tlsConnection(USER, { password: TOKEN }) }),
    );
    expect(err).toBeInstanceOf(ImapConnectionError);
    expect(err.code).toBe("AUTHENTICATION_FAILED");
    expect(err.message).toContain(
      `Login to ${where} as "${USER}" failed: check the username and password.`,
    );
    expect(introspection.asked).toBe(asked);
  });

  test("when the provider's token check is down, the failure is temporary, not a call to re-authorise", async () => {
    await introspection.close();
    try {
      const err = await failure(() =>
        harness.action("getStatus", { connection: oauthConnection(USER, TOKEN), mailbox: "INBOX" }),
      );
      expect(err).toBeInstanceOf(ImapError);
      expect(err).not.toBeInstanceOf(ImapConnectionError);
      expect(err.code).toBe("AUTHENTICATION_UNAVAILABLE");
      expect(err.message).toMatch(
        new RegExp(
          `^The server at ${where.replace(/\./g, "\\.")} could not check the OAuth access token of "${USER}" right now \\(temporary failure of its token validation\\)\\. The token was not rejected: retry later; if it persists, the provider's sign-in service is down\\. The server said: \\[UNAVAILABLE\\] Temporary authentication failure\\.`,
        ),
      );
      expect(err.message).not.toContain("Re-authorise");
      expect(leaks(`${err.message}\n${JSON.stringify(err)}`, TOKEN)).toEqual([]);
    } finally {
      introspection = await startIntrospection({ [TOKEN]: USER }, { [EXPIRED]: USER });
    }
    // and once it is back, the same token works again
    const { data } = (await harness.action("getStatus", {
      connection: oauthConnection(USER, TOKEN),
      mailbox: "INBOX",
    })) as { data: Status };
    expect(data.path).toBe("INBOX");
  });

  test("a server without OAuth login says so, and the token is never sent", async () => {
    const connection = oauthConnection(USER, TOKEN, {
      port: String(server.legacyPort),
      encryption: "none",
      caCertificate: "",
    });
    const err = await failure(() => harness.action("listMailboxes", { connection }));
    expect(err).toBeInstanceOf(ImapConnectionError);
    expect(err.code).toBe("OAUTH_UNSUPPORTED");
    expect(err.message).toBe(
      `The server at 127.0.0.1:${server.legacyPort} does not offer OAuth 2.0 login (neither AUTH=OAUTHBEARER nor AUTH=XOAUTH2), so the token was not sent. Check the host and port (Microsoft 365: outlook.office365.com, Gmail: imap.gmail.com, both on 993 with "tls"), or use the password connection for this server.`,
    );
    expect(leaks(`${err.message}\n${JSON.stringify(err)}`, TOKEN)).toEqual([]);
  });
});

describe("the token stays secret", () => {
  test("the leak check finds the token inside base64 text, at every byte offset", () => {
    for (const before of ["", "a", "ab", "n,a=test25,\u0001auth=Bearer "]) {
      expect(
        leaks(Buffer.from(`${before}${TOKEN}\u0001\u0001`).toString("base64"), TOKEN),
      ).toHaveLength(1);
    }
    expect(leaks(`token=${encodeURIComponent(TOKEN)}`, TOKEN)).not.toEqual([]);
    expect(leaks("(* value hidden *)", TOKEN)).toEqual([]);
  });

  test("neither errors nor debug logs show the token, in any encoding", async () => {
    const { lines, logger } = recordingLogger();
    const context = { logger, globalDebug: true };
    const ok = (await harness.action(
      "getStatus",
      { connection: oauthConnection(USER, TOKEN), mailbox: "INBOX" },
      context,
    )) as { data: Status };
    expect(ok.data.path).toBe("INBOX");
    const rejected = await failure(() =>
      harness.action(
        "getStatus",
        { connection: oauthConnection(USER, UNKNOWN), mailbox: "INBOX" },
        context,
      ),
    );
    expect(rejected).toBeInstanceOf(ImapConnectionError);

    // debug mode really logged both sessions, the authentication included
    const log = lines.join("\n");
    expect(
      lines.filter((line) => /"src":"c","msg":"\d+ AUTHENTICATE OAUTHBEARER /.test(line)),
    ).toHaveLength(2);
    expect(log).toContain("[AUTHENTICATIONFAILED]");
    expect(leaks(log, TOKEN)).toEqual([]);
    expect(leaks(log, UNKNOWN)).toEqual([]);

    const shown = [
      rejected.message,
      JSON.stringify(rejected),
      inspect(rejected, { depth: 8 }),
      String(rejected.stack),
    ].join("\n");
    expect(shown).toContain('"key":"imapOAuth2"');
    expect(leaks(shown, UNKNOWN)).toEqual([]);
    // the client secret of the connection is not shown either
    expect(shown).not.toContain("test-client-secret");
  });
});

describe("imapOAuth2 input checks", () => {
  test.each([
    ["an empty token", ""],
    ["a blank token", "   "],
  ])("%s is a connection error before connecting", async (_name, token) => {
    // port 1 refuses connections: reaching the network would give another error
    const err = await failure(() =>
      harness.action("listMailboxes", { connection: oauthConnection(USER, token, { port: "1" }) }),
    );
    expect(err).toBeInstanceOf(ImapConnectionError);
    expect(err.code).toBe("NOT_AUTHORIZED");
    expect(err.message).toBe(
      "The OAuth 2.0 connection has no access token: authorise the connection first.",
    );
  });

  test("a connection that was never authorised (no token at all) is a connection error asking to authorise it", async () => {
    const connection = { ...oauthConnection(USER, TOKEN, { port: "1" }), token: undefined };
    const err = await failure(() => harness.action("listMailboxes", { connection }));
    expect(err).toBeInstanceOf(ImapConnectionError);
    expect(err.code).toBe("NOT_AUTHORIZED");
    expect(err.message).toBe(
      "The OAuth 2.0 connection has no access token: authorise the connection first.",
    );
  });
});

describe("the introspection endpoint", () => {
  test("leaves no socket and no listening port behind once closed", async () => {
    await introspection.close();
    // timers are not compared: jest's own come and go in worker processes
    expect((await resourcesAfter(initially)).sockets).toBe(initially.sockets);
    const outcome = await new Promise<string>((resolve) => {
      const probe = net.connect(introspectionPort, "127.0.0.1");
      probe.on("connect", () => {
        probe.destroy();
        resolve("connected");
      });
      probe.on("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
    expect(outcome).toBe("ECONNREFUSED");
  });
});
