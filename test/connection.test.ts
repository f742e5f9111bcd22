import { ImapConnectionError, ImapError, InputError } from "../src/errors";
import { sessionLimits } from "../src/session";
import { failure, harness, leaks, legacyConnection, server, tlsConnection } from "./helpers";
import { faultyProxy, silentServer } from "./proxy";

const USER = "test01";
const saved = { ...sessionLimits };
const crashes: unknown[] = [];
const onCrash = (err: unknown) => crashes.push(err);

beforeAll(() => {
  Object.assign(sessionLimits, {
    connectMs: 3000,
    greetingMs: 1000,
    socketMs: 1500,
    logoutMs: 500,
  });
  process.on("uncaughtException", onCrash);
  process.on("unhandledRejection", onCrash);
});

afterAll(() => {
  Object.assign(sessionLimits, saved);
  process.off("uncaughtException", onCrash);
  process.off("unhandledRejection", onCrash);
});

// Sockets and timers left open are checked after every test by test/leakCheck.ts.
afterEach(() => {
  expect(crashes).toEqual([]);
});

async function status(connection: ReturnType<typeof tlsConnection>) {
  return harness.action("getStatus", { connection, mailbox: "INBOX" });
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const start = Date.now();
  const result = await work();
  return { ms: Date.now() - start, result };
}

describe("connecting", () => {
  test("implicit TLS verifies the server against the given CA", async () => {
    const { data } = (await status(tlsConnection(USER))) as { data: { path: string } };
    expect(data.path).toBe("INBOX");
  });

  test("without the CA the certificate is rejected, with a fix in the message", async () => {
    const err = await failure(() => status(tlsConnection(USER, { caCertificate: "" })));
    expect(err).toBeInstanceOf(ImapConnectionError);
    expect(err.code).toBe("TLS_CERTIFICATE");
    expect(err.message).toContain(`TLS certificate of 127.0.0.1:${server.tlsPort} was rejected`);
    expect(err.message).toContain('"CA Certificate"');
    expect((err as { cause?: { code?: string } }).cause?.code).toBe(
      "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    );
  });

  test("turning verification off is possible, as a last resort", async () => {
    const { data } = (await status(
      tlsConnection(USER, { caCertificate: "", verifyCertificate: "false" }),
    )) as { data: { path: string } };
    expect(data.path).toBe("INBOX");
  });

  test("STARTTLS upgrades on a listener that requires it", async () => {
    const connection = tlsConnection(USER, {
      host: server.starttlsHost,
      port: String(server.plainPort),
      encryption: "starttls",
    });
    const { data } = (await status(connection)) as { data: { path: string } };
    expect(data.path).toBe("INBOX");
  });

  test("STARTTLS verifies the certificate too", async () => {
    const connection = tlsConnection(USER, {
      host: server.starttlsHost,
      port: String(server.plainPort),
      encryption: "starttls",
      caCertificate: "",
    });
    const err = await failure(() => status(connection));
    expect(err).toBeInstanceOf(ImapConnectionError);
    expect(err.code).toBe("TLS_CERTIFICATE");
    expect(err.message).toContain('"CA Certificate"');
  });

  test("cleartext login on a listener that requires TLS says to turn encryption on", async () => {
    const connection = tlsConnection(USER, {
      host: server.starttlsHost,
      port: String(server.plainPort),
      encryption: "none",
    });
    const err = await failure(() => status(connection));
    expect(err).toBeInstanceOf(ImapConnectionError);
    expect(err.code).toBe("LOGIN_DISABLED");
    expect(err.message).toContain('Set encryption to "starttls" or "tls"');
  });

  test("STARTTLS required but not offered fails before anything is sent in cleartext", async () => {
    const err = await failure(() => status(legacyConnection(USER, { encryption: "starttls" })));
    expect(err).toBeInstanceOf(ImapConnectionError);
    expect(err.code).toBe("STARTTLS_UNAVAILABLE");
    expect(err.message).toBe(
      `The server at 127.0.0.1:${server.legacyPort} does not offer STARTTLS, and the connection requires it, so nothing was sent in cleartext. Use encryption "tls" (usually port 993) if the server supports implicit TLS.`,
    );
  });

  test("a wrong password is a connection error that never shows the password", async () => {
    const password = "Wrong-Pa55word-xyz";
    const err = await failure(() => status(tlsConnection(USER, { password })));
    expect(err).toBeInstanceOf(ImapConnectionError);
    expect(err.code).toBe("AUTHENTICATION_FAILED");
    expect(err.message).toContain(
      `Login to 127.0.0.1:${server.tlsPort} as "${USER}" failed: check the username and password.`,
    );
    expect(err.message).toContain("[AUTHENTICATIONFAILED]");
    expect(leaks(`${err.message}\n${JSON.stringify(err)}\n${String(err.stack)}`, password)).toEqual(
      [],
    );
  });

  test("a refused port names host and port", async () => {
    const err = await failure(() => status(tlsConnection(USER, { port: "1" })));
    expect(err).toBeInstanceOf(ImapConnectionError);
    expect(err.code).toBe("CONNECTION_REFUSED");
    expect(err.message).toContain("Could not connect to 127.0.0.1:1: the connection was refused.");
  });

  test("a non-numeric port is refused before any traffic", async () => {
    // An InputError (not a connection error) shows that parsing failed before anything was sent.
    const err = await failure(() => status(tlsConnection(USER, { port: "99x3" })));
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toBe(
      'The connection\'s port "99x3" is not a number. Use a port number such as 993 (implicit TLS) or 143 (STARTTLS).',
    );
  });

  test("a CA certificate that is not a certificate is refused before any traffic", async () => {
    const pem = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----";
    const err = await failure(() => status(tlsConnection(USER, { caCertificate: pem, port: "1" })));
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toMatch(
      /^The connection's CA certificate could not be read: .+\. Paste the whole certificate, from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----\.$/,
    );
  });

  test("a server that accepts and never greets times out on the greeting bound", async () => {
    const silent = await silentServer();
    try {
      const { ms, result: err } = await timed(() =>
        failure(() =>
          status(tlsConnection(USER, { port: String(silent.port), encryption: "none" })),
        ),
      );
      expect(err).toBeInstanceOf(ImapConnectionError);
      expect(err.code).toBe("GREETING_TIMEOUT");
      expect(err.message).toContain("no IMAP greeting came within 1 s");
      // Waited for the 1 s bound, and was ended by it: imapflow's own default would wait 16 s.
      expect(ms).toBeGreaterThanOrEqual(900);
      expect(ms).toBeLessThan(12_000);
    } finally {
      await silent.close();
    }
  });

  test("a port that accepts TCP but never answers TLS is told apart from an unreachable host", async () => {
    const silent = await silentServer();
    try {
      const { ms, result: err } = await timed(() =>
        failure(() =>
          status(tlsConnection(USER, { port: String(silent.port), encryption: "tls" })),
        ),
      );
      expect(err).toBeInstanceOf(ImapConnectionError);
      expect(err.code).toBe("TLS_HANDSHAKE_TIMEOUT");
      expect(err.message).toBe(
        `Connected to ${server.host}:${silent.port}, but the TLS handshake did not complete within 3 s: the host is reachable and the port accepts connections, but it does not answer TLS. Check that this port speaks implicit TLS (usually 993); for a port that starts in cleartext (usually 143) set encryption to "starttls".`,
      );
      expect(ms).toBeGreaterThanOrEqual(2900);
    } finally {
      await silent.close();
    }
  });

  test.each(["none", "starttls"])(
    "%s on a port known for implicit TLS says to choose tls after a short silence",
    async (encryption) => {
      const silent = await silentServer();
      const ports = sessionLimits.implicitTlsPorts;
      // the silent server stands in for a port 993 that waits for a TLS handshake
      Object.assign(sessionLimits, { implicitTlsPorts: [silent.port], mismatchGreetingMs: 300 });
      try {
        const { ms, result: err } = await timed(() =>
          failure(() => status(tlsConnection(USER, { port: String(silent.port), encryption }))),
        );
        expect(err).toBeInstanceOf(ImapConnectionError);
        expect(err.code).toBe("ENCRYPTION_MISMATCH");
        expect(err.message).toBe(
          `Connected to ${server.host}:${silent.port}, but the server said nothing for 0.3 s: port ${silent.port} is the implicit-TLS port, which waits for a TLS handshake before it greets, and the connection is set to "${encryption}". Set encryption to "tls" (or keep "${encryption}" and use port 143).`,
        );
        // ended by the short bound, not the full greeting bound of 1 s
        expect(ms).toBeLessThan(900);
      } finally {
        Object.assign(sessionLimits, { implicitTlsPorts: ports, mismatchGreetingMs: 4000 });
        await silent.close();
      }
    },
  );

  test("a connection cut after login is reported as lost, naming the mailbox", async () => {
    const proxy = await faultyProxy(
      { host: server.host, port: server.legacyPort },
      /STATUS/,
      "cut",
    );
    try {
      const err = await failure(() => status(legacyConnection(USER, { port: String(proxy.port) })));
      expect(err).toBeInstanceOf(ImapError);
      expect(err.code).toBe("CONNECTION_LOST");
      expect(err.message).toBe(
        `The connection to 127.0.0.1:${proxy.port} was closed unexpectedly while trying to read the status of the mailbox (mailbox "INBOX"). Check the server's availability; the step can be retried if the operation is safe to retry.`,
      );
    } finally {
      await proxy.close();
    }
  });

  test("a connection that stalls after login times out on the inactivity bound", async () => {
    const proxy = await faultyProxy(
      { host: server.host, port: server.legacyPort },
      /STATUS/,
      "stall",
    );
    try {
      const { ms, result: err } = await timed(() =>
        failure(() => status(legacyConnection(USER, { port: String(proxy.port) }))),
      );
      expect(err).toBeInstanceOf(ImapError);
      expect(err.code).toBe("SOCKET_TIMEOUT");
      expect(err.message).toContain(
        "stopped responding for 1.5 s while trying to read the status of the mailbox",
      );
      // Ended by the 1.5 s inactivity bound, not by imapflow's default of 5 minutes.
      expect(ms).toBeGreaterThanOrEqual(1400);
      expect(ms).toBeLessThan(30_000);
    } finally {
      await proxy.close();
    }
  });
});

describe("logging", () => {
  test("debug mode logs the session through context.logger without the password", async () => {
    const lines: string[] = [];
    const logger = {
      debug: (...args: unknown[]) => lines.push(args.join(" ")),
      info: () => undefined,
      warn: () => undefined,
      error: () => undefined,
      metric: () => undefined,
    };
    // The platform turns debug mode on through globalDebug; spectral derives context.debug from it.
    await harness.action("getStatus", { connection: tlsConnection(USER), mailbox: "INBOX" }, {
      logger: logger as never,
      globalDebug: true,
    } as never);
    const sent = lines
      .filter((line) => line.startsWith("imap debug: "))
      .map(
        (line) => JSON.parse(line.slice("imap debug: ".length)) as { src?: string; msg?: string },
      )
      .filter((entry) => entry.src === "c")
      .map((entry) => String(entry.msg).replace(/^\d+ /, ""));
    // The login and the command were logged, and the password in no form (plain, URL-encoded, base64).
    expect(sent).toEqual(
      expect.arrayContaining([
        `LOGIN "${USER}" "(* value hidden *)"`,
        "STATUS INBOX (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN HIGHESTMODSEQ)",
        "LOGOUT",
      ]),
    );
    expect(leaks(lines.join("\n"), server.password)).toEqual([]);
  });

  test("without debug mode nothing is logged and nothing goes to stdout", async () => {
    const lines: string[] = [];
    const logger = {
      debug: (...args: unknown[]) => lines.push(args.join(" ")),
      info: () => undefined,
      warn: () => undefined,
      error: () => undefined,
    };
    const write = jest.spyOn(process.stdout, "write");
    try {
      await harness.action(
        "getStatus",
        { connection: tlsConnection(USER), mailbox: "INBOX" },
        { logger: logger as never },
      );
      expect(write).not.toHaveBeenCalled();
    } finally {
      write.mockRestore();
    }
    expect(lines).toEqual([]);
  });
});
