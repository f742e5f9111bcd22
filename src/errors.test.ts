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
        ["PROTOCOL_ERROR", "INBOX", 7],
      );
      expect(err.message).toBe(
        `The server at imap.example.com:993 sent a response that could not be read (${code}) while trying to fetch the message (UID 7 in mailbox "INBOX"), so the connection was closed. This is usually bytes garbled on the way or a server fault, not a problem of the step: it can be retried if the operation is safe to retry; if it keeps happening, report it to the server's administrator.`,
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
});
