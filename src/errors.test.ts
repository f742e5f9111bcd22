import { ImapFlowErrorCode } from "imapflow";
import type { ErrorScope } from "./errors";
import { ImapConnectionError, ImapError, InputError, translateError } from "./errors";

const scope: ErrorScope = {
  host: "imap.example.com",
  port: 993,
  user: "someone@example.com",
  encryption: "tls",
  oauth: false,
  secrets: ["s3cret-pass"],
  connection: { key: "imap", configVarKey: "IMAP", fields: { password: "[redacted]" } },
  timeouts: { connectMs: 20000, greetingMs: 15000, socketMs: 90000 },
};

function imapflowError(fields: Record<string, unknown>): Error {
  return Object.assign(new Error("Command failed"), fields);
}

describe("translateError", () => {
  test("a wrong password is a connection error that keeps the server's text and the cause", () => {
    const cause = imapflowError({
      authenticationFailed: true,
      serverResponseCode: "AUTHENTICATIONFAILED",
      responseText: "Authentication failed.",
    });
    const err = translateError(cause, scope);
    expect(err).toBeInstanceOf(ImapConnectionError);
    expect((err as ImapConnectionError).code).toBe("AUTHENTICATION_FAILED");
    expect(err.message).toBe(
      'Login to imap.example.com:993 as "someone@example.com" failed: check the username and password. Some providers (Gmail, Microsoft 365) need an app password or OAuth 2.0 instead of the account password. The server said: [AUTHENTICATIONFAILED] Authentication failed.',
    );
    expect((err as Error & { cause?: unknown }).cause).toBe(cause);
  });

  test("a rejected token asks to re-authorise", () => {
    const err = translateError(
      imapflowError({
        authenticationFailed: true,
        serverResponseCode: "AUTHENTICATIONFAILED",
        responseText: "Invalid token",
      }),
      { ...scope, oauth: true },
    );
    expect(err).toBeInstanceOf(ImapConnectionError);
    expect((err as ImapConnectionError).code).toBe("AUTHENTICATION_FAILED");
    expect(err.message).toBe(
      'The server at imap.example.com:993 rejected the OAuth access token for "someone@example.com". Re-authorise the connection (the token may have expired or been revoked, or lacks the IMAP scope), and check that the username is the mailbox\'s address. The server said: [AUTHENTICATIONFAILED] Invalid token',
    );
  });

  test("an unavailable authentication backend is temporary, not a configuration error", () => {
    const err = translateError(
      imapflowError({
        authenticationFailed: true,
        serverResponseCode: "UNAVAILABLE",
        responseText: "Temporary authentication failure",
      }),
      scope,
    );
    expect(err).toBeInstanceOf(ImapError);
    expect(err).not.toBeInstanceOf(ImapConnectionError);
    expect((err as ImapError).code).toBe("AUTHENTICATION_UNAVAILABLE");
    expect(err.message).toBe(
      'The server at imap.example.com:993 could not check the login of "someone@example.com" right now (temporary failure). Retry later; if it persists, the server\'s authentication backend is down. The server said: [UNAVAILABLE] Temporary authentication failure',
    );
  });

  test.each([
    [
      "ECONNREFUSED",
      "CONNECTION_REFUSED",
      "Could not connect to imap.example.com:993: the connection was refused.",
    ],
    ["ENOTFOUND", "HOST_NOT_FOUND", 'The host name "imap.example.com" could not be resolved.'],
    ["CONNECT_TIMEOUT", "CONNECT_TIMEOUT", "Could not reach imap.example.com:993 within 20 s"],
    ["GREETING_TIMEOUT", "GREETING_TIMEOUT", "no IMAP greeting came within 15 s"],
    [
      "DEPTH_ZERO_SELF_SIGNED_CERT",
      "TLS_CERTIFICATE",
      'paste that CA certificate (PEM) into the connection\'s "CA Certificate" field',
    ],
    [
      "ERR_TLS_CERT_ALTNAME_INVALID",
      "TLS_CERTIFICATE",
      "was rejected (ERR_TLS_CERT_ALTNAME_INVALID)",
    ],
    [
      "ERR_SSL_WRONG_VERSION_NUMBER",
      "TLS_HANDSHAKE",
      "Check that the encryption setting matches the port",
    ],
  ])("socket code %s is a connection error %s", (code, expected, text) => {
    const err = translateError(Object.assign(new Error("x"), { code }), scope);
    expect(err).toBeInstanceOf(ImapConnectionError);
    expect((err as ImapConnectionError).code).toBe(expected);
    expect(err.message).toContain(text);
  });

  test("STARTTLS not offered is told apart from a handshake failure", () => {
    const err = translateError(
      Object.assign(new Error("Server does not support STARTTLS"), { tlsFailed: true }),
      { ...scope, encryption: "starttls", port: 143 },
    );
    expect(err).toBeInstanceOf(ImapConnectionError);
    expect((err as ImapConnectionError).code).toBe("STARTTLS_UNAVAILABLE");
    expect(err.message).toBe(
      'The server at imap.example.com:143 does not offer STARTTLS, and the connection requires it, so nothing was sent in cleartext. Use encryption "tls" (usually port 993) if the server supports implicit TLS.',
    );
    // the same flag on a TLS connection is a handshake failure
    expect(
      (
        translateError(
          Object.assign(new Error("x"), { tlsFailed: true }),
          scope,
        ) as ImapConnectionError
      ).code,
    ).toBe("TLS_HANDSHAKE");
  });

  test("inactivity and a lost connection name what was being done, and where", () => {
    const op = { doing: "add flags", mailbox: "INBOX", uid: "5" };
    expect(
      translateError(Object.assign(new Error("t"), { code: "ETIMEOUT" }), scope, op).message,
    ).toBe(
      'The server at imap.example.com:993 stopped responding for 90 s while trying to add flags (UID 5 in mailbox "INBOX"). Nothing more was sent; the step can be retried if the operation is safe to retry.',
    );
    const lost = translateError(Object.assign(new Error("c"), { code: "NoConnection" }), scope, op);
    expect((lost as ImapError).code).toBe("CONNECTION_LOST");
    expect((lost as ImapError).mailbox).toBe("INBOX");
    expect(lost.message).toBe(
      'The connection to imap.example.com:993 was closed unexpectedly while trying to add flags (UID 5 in mailbox "INBOX"). Check the server\'s availability; the step can be retried if the operation is safe to retry.',
    );
  });

  test.each([
    "ParserError3",
    "ParserErrorExchange",
    "UnexpectedTag",
    "InvalidResponse",
    "TooManyTokens",
  ])(
    "an unreadable server response (%s) is a protocol error of the server, retryable, naming the command",
    (code) => {
      const op = { doing: "fetch the message", mailbox: "INBOX", uid: 7 };
      const err = translateError(Object.assign(new Error("garbled"), { code }), scope, op);
      expect(err).toBeInstanceOf(ImapError);
      expect([(err as ImapError).code, (err as ImapError).mailbox, (err as ImapError).uid]).toEqual(
        ["RESPONSE_DAMAGED", "INBOX", 7],
      );
      expect(err.message).toBe(
        `The server at imap.example.com:993 sent an answer the client could not parse while trying to fetch the message (UID 7 in mailbox "INBOX") (${code}), so nothing was taken from it. The step can be retried if the operation is safe to retry; if it keeps happening, the server or something between it and here (a proxy, a virus scanner) damages its answers: report it to the server's administrator.`,
      );
    },
  );

  test("a missing mailbox and a refused command name the mailbox and quote the server", () => {
    const missing = translateError(imapflowError({ mailboxMissing: true }), scope, {
      doing: "open the mailbox",
      mailbox: "Archive/2024",
    });
    expect(missing.message).toBe(
      'The mailbox "Archive/2024" does not exist. Check the path (the List Mailboxes action shows every path) or create it first.',
    );
    const refused = translateError(
      imapflowError({
        responseStatus: "NO",
        serverResponseCode: "OVERQUOTA",
        responseText: "Quota exceeded",
      }),
      scope,
      {
        doing: "append the message",
        mailbox: "Sent",
      },
    );
    expect(refused.message).toBe(
      'The server refused to append the message (mailbox "Sent"). The server said: [OVERQUOTA] Quota exceeded',
    );
  });

  test("the password never appears, even if an unexpected error carries it", () => {
    const err = translateError(new Error("weird failure near s3cret-pass"), scope, {
      doing: "list the mailboxes",
    });
    expect(err.message).toBe(
      "Could not list the mailboxes on imap.example.com:993: weird failure near [redacted]",
    );
  });

  test("our own errors pass through unchanged", () => {
    const input = new InputError("bad");
    expect(translateError(input, scope)).toBe(input);
  });
  test("an answer the client could not parse says so, and that a retry is the way", () => {
    const cause = Object.assign(new Error("Failed to parse the server response for this command"), {
      code: "ParserError9",
    });
    const err = translateError(cause, scope, { doing: "open the mailbox", mailbox: "INBOX" });
    expect(err).toBeInstanceOf(ImapError);
    expect([(err as ImapError).code, (err as ImapError).mailbox]).toEqual([
      "RESPONSE_DAMAGED",
      "INBOX",
    ]);
    expect(err.message).toBe(
      'The server at imap.example.com:993 sent an answer the client could not parse while trying to open the mailbox (mailbox "INBOX") (ParserError9), so nothing was taken from it. The step can be retried if the operation is safe to retry; if it keeps happening, the server or something between it and here (a proxy, a virus scanner) damages its answers: report it to the server\'s administrator.',
    );
  });

  test("a damaged TLS record is not a settings problem", () => {
    const cause = Object.assign(new Error("decryption failed or bad record mac"), {
      code: "ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC",
      library: "SSL routines",
    });
    const err = translateError(cause, scope, { doing: "connect to imap.example.com:993" });
    expect(err).toBeInstanceOf(ImapError);
    expect((err as ImapError).code).toBe("TLS_DAMAGED");
    expect(err.message).toBe(
      "The encrypted connection to imap.example.com:993 broke while trying to connect to imap.example.com:993: a TLS record arrived damaged (ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC), so the connection was closed. This is not a settings problem: something on the network (a proxy or firewall that inspects TLS, a faulty link) or the server changed the data. The step can be retried if the operation is safe to retry; if it persists, check what sits between here and the server.",
    );
  });
});

describe("imapflow's own error codes", () => {
  const codeOf = (err: Error) => (err as ImapError | ImapConnectionError).code;

  test.each(Object.values(ImapFlowErrorCode))(
    "%s is mapped on purpose, never UNEXPECTED",
    (code) => {
      const err = translateError(imapflowError({ code }), scope, { doing: "fetch the message" });
      expect(codeOf(err)).not.toBe("UNEXPECTED");
      expect(err.message).not.toMatch(/Command failed$/);
    },
  );

  test("numbered parser errors are damaged answers that name what was being done", () => {
    const err = translateError(imapflowError({ code: "ParserError11" }), scope, {
      doing: "fetch the message",
      mailbox: "INBOX",
      uid: 7,
    });
    expect([codeOf(err), err instanceof ImapError]).toEqual(["RESPONSE_DAMAGED", true]);
    expect(err.message).toBe(
      'The server at imap.example.com:993 sent an answer the client could not parse while trying to fetch the message (UID 7 in mailbox "INBOX") (ParserError11), so nothing was taken from it. The step can be retried if the operation is safe to retry; if it keeps happening, the server or something between it and here (a proxy, a virus scanner) damages its answers: report it to the server\'s administrator.',
    );
  });

  test("a throttled server (Microsoft 365's BAD with ETHROTTLE) says when to retry, not that permission is missing", () => {
    const err = translateError(
      imapflowError({
        code: "ETHROTTLE",
        responseStatus: "BAD",
        responseText: "Request is throttled. Suggested Backoff Time: 12000 milliseconds",
        throttleReset: 12000,
      }),
      scope,
      { doing: "select the mailbox", mailbox: "INBOX" },
    );
    expect(err).toBeInstanceOf(ImapError);
    expect(codeOf(err)).toBe("THROTTLED");
    expect(err.message).toBe(
      'The server at imap.example.com:993 is throttling this account and refused to select the mailbox (mailbox "INBOX") for now (Microsoft 365 limits how many commands and connections an account may use). Nothing was changed by the refused command. Retry after 12 s, and spread the flow\'s steps over time if it happens often. The server said: Request is throttled. Suggested Backoff Time: 12000 milliseconds',
    );
  });

  test("a STARTTLS upgrade that times out says so, as a connection problem", () => {
    const err = translateError(
      imapflowError({ code: "UPGRADE_TIMEOUT" }),
      { ...scope, port: 143, encryption: "starttls" },
      { doing: "connect" },
    );
    expect(err).toBeInstanceOf(ImapConnectionError);
    expect(codeOf(err)).toBe("STARTTLS_TIMEOUT");
    expect(err.message).toMatch(
      /^Connected to imap\.example\.com:143, but the STARTTLS upgrade did not complete in time/,
    );
  });
});

describe("translateError for app-only connections", () => {
  const appScope: ErrorScope = {
    ...scope,
    host: "outlook.office365.com",
    user: "support@contoso.com",
    oauth: true,
    // as the session lists them: as is and form-encoded
    secrets: ["Qx8~secret", "Qx8%7Esecret"],
    appOnly: { provider: "microsoft365", clientId: "app-id", tenant: "contoso.onmicrosoft.com" },
  };
  const ENDPOINT = "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token";
  const tokenFailure = (fields: Record<string, unknown>) =>
    Object.assign(new Error("token request failed"), { tokenEndpoint: ENDPOINT, ...fields });

  test.each([
    [{ httpStatus: 503 }, "it answered HTTP 503"],
    [{ httpStatus: 429 }, "it answered HTTP 429"],
    [{ code: "CONNECT_TIMEOUT" }, "it could not be reached within 20 s"],
    [{ code: "ECONNRESET" }, "the request failed (ECONNRESET)"],
  ])("a token endpoint failing with %o is temporary, not the connection's fault", (fields, why) => {
    const err = translateError(tokenFailure(fields), appScope, { doing: "get an access token" });
    expect(err).toBeInstanceOf(ImapError);
    expect(err).not.toBeInstanceOf(ImapConnectionError);
    expect((err as ImapError).code).toBe("TOKEN_ENDPOINT_UNAVAILABLE");
    expect(err.message).toBe(
      `Could not get an access token from ${ENDPOINT}: ${why}. This is temporary, not a problem of the connection's settings: retry the step later. Nothing was sent to the IMAP server.`,
    );
  });

  test("another refusal of the token request is the connection's, with the endpoint's words and no secret", () => {
    const err = translateError(
      tokenFailure({
        httpStatus: 400,
        tokenError: "invalid_scope",
        tokenErrorCodes: [70011],
        tokenErrorDescription: "AADSTS70011: scope is not valid. client_secret=Qx8%7Esecret",
      }),
      appScope,
    );
    expect(err).toBeInstanceOf(ImapConnectionError);
    expect((err as ImapConnectionError).code).toBe("TOKEN_REJECTED");
    expect(err.message).toBe(
      `The token endpoint ${ENDPOINT} refused to issue a token for app app-id (HTTP 400). Check the connection's tenant, client ID, credential and scopes. The token endpoint said: invalid_scope: AADSTS70011: scope is not valid. client_secret=[redacted]`,
    );
  });

  test("a token endpoint whose host does not resolve points at the authority", () => {
    const err = translateError(tokenFailure({ code: "ENOTFOUND" }), appScope);
    expect(err).toBeInstanceOf(ImapConnectionError);
    expect(err.message).toBe(
      `The host of the token endpoint ${ENDPOINT} could not be resolved. Check the connection's Authority (Microsoft) or the key file's token_uri (Google).`,
    );
  });

  test("a lost connection after the token's expiry time is a token expiry, also without Microsoft's BYE", () => {
    const lost = imapflowError({ code: "NoConnection" });
    const expired = translateError(
      lost,
      { ...appScope, tokenExpiresAt: Date.now() - 1 },
      {
        doing: "fetch messages",
        mailbox: "INBOX",
      },
    );
    expect((expired as ImapError).code).toBe("TOKEN_EXPIRED");
    expect(expired.message).toBe(
      'The access token for "support@contoso.com" expired during the step: outlook.office365.com:993 ended the session while trying to fetch messages (mailbox "INBOX"). Retry the step; it starts with a new token. If it recurs, the step runs longer than a token lives (about an hour): split the work into smaller steps.',
    );
    const valid = translateError(lost, { ...appScope, tokenExpiresAt: Date.now() + 60_000 });
    expect((valid as ImapError).code).toBe("CONNECTION_LOST");
    // a password session is never told its token expired
    const password = translateError(
      imapflowError({ code: "NoConnection", reason: "Session invalidated - AccessTokenExpired" }),
      scope,
    );
    expect((password as ImapError).code).toBe("CONNECTION_LOST");
  });

  test("Gmail refusing the service account's token names the IMAP setting, not re-authorisation", () => {
    const err = translateError(
      imapflowError({
        authenticationFailed: true,
        serverResponseCode: "AUTHENTICATIONFAILED",
        responseText: "Invalid credentials (Failure)",
      }),
      {
        ...appScope,
        host: "imap.gmail.com",
        user: "orders@example.com",
        appOnly: {
          provider: "google",
          clientId: "1234",
          serviceAccount: "imap@p.iam.gserviceaccount.com",
        },
      },
    );
    expect((err as ImapConnectionError).code).toBe("MAILBOX_ACCESS_NOT_GRANTED");
    expect(err.message).toBe(
      `Gmail (imap.gmail.com:993) refused the service account's login to the mailbox "orders@example.com". The token was issued, so domain-wide delegation is in place; check that IMAP is allowed for this user (Google Admin console > Apps > Google Workspace > Gmail > End User Access > POP and IMAP access) and that the Mailbox Address is the user's primary address. The server said: [AUTHENTICATIONFAILED] Invalid credentials (Failure)`,
    );
  });
});
