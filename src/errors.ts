/**
 * Every failure a builder can see goes through this file: imapflow, socket and TLS errors are
 * classified by their structured fields (never by message text) and turned into one clear
 * message that says what failed, where, and what to do. The original error stays as `cause`.
 */

import type { Connection } from "@prismatic-io/spectral";
import { ConnectionError, SpectralError } from "@prismatic-io/spectral";

/** Bad input, found before any network traffic. */
export class InputError extends SpectralError {
  constructor(message: string) {
    super(message);
    this.name = "InputError";
  }
}

export type ImapErrorCode =
  | "AUTHENTICATION_FAILED"
  | "AUTHENTICATION_UNAVAILABLE"
  | "CONNECTION_REFUSED"
  | "HOST_NOT_FOUND"
  | "CONNECT_TIMEOUT"
  | "GREETING_TIMEOUT"
  | "TLS_CERTIFICATE"
  | "TLS_HANDSHAKE"
  | "STARTTLS_UNAVAILABLE"
  | "LOGIN_DISABLED"
  | "OAUTH_UNSUPPORTED"
  | "SOCKET_TIMEOUT"
  | "CONNECTION_LOST"
  | "PROTOCOL_ERROR"
  | "MAILBOX_NOT_FOUND"
  | "MAILBOX_EXISTS"
  | "MESSAGE_NOT_FOUND"
  | "PART_AMBIGUOUS"
  | "MISSING_EXTENSION"
  | "UNSAFE_EXPUNGE"
  | "COPY_INCOMPLETE"
  | "APPENDED_UID_UNKNOWN"
  | "PART_NOT_FOUND"
  | "CONTENT_MISSING"
  | "CURSOR_INVALID"
  | "SERVER_REFUSED"
  | "UNEXPECTED";

interface ErrorDetails {
  code: ImapErrorCode;
  mailbox?: string;
  uid?: number | string;
  cause?: unknown;
}

/** A failure of an IMAP operation (not of the connection settings). */
export class ImapError extends SpectralError {
  readonly code: ImapErrorCode;
  readonly mailbox?: string;
  readonly uid?: number | string;

  constructor(message: string, details: ErrorDetails) {
    super(message);
    this.name = "ImapError";
    this.code = details.code;
    this.mailbox = details.mailbox;
    this.uid = details.uid;
    if (details.cause !== undefined)
      Object.defineProperty(this, "cause", { value: details.cause, enumerable: false });
  }
}

/** A failure caused by the connection's settings or credentials: the platform flags the connection. */
export class ImapConnectionError extends ConnectionError {
  readonly code: ImapErrorCode;

  constructor(connection: Connection, message: string, code: ImapErrorCode, cause?: unknown) {
    super(connection, message);
    this.name = "ImapConnectionError";
    this.code = code;
    if (cause !== undefined)
      Object.defineProperty(this, "cause", { value: cause, enumerable: false });
  }
}

/** What an error message may say about the session it happened in. */
export interface ErrorScope {
  host: string;
  port: number;
  user: string;
  encryption: "tls" | "starttls" | "none";
  oauth: boolean;
  /** Values that must never appear in a message (password, token). */
  secrets: string[];
  /** The connection with its secrets removed, for ConnectionError. */
  connection: Connection;
  timeouts: { connectMs: number; greetingMs: number; socketMs: number };
  /** The server announced LOGINDISABLED: it takes no login on this unencrypted connection. */
  loginDisabled?: boolean;
  /** An OAuth connection, and the server's capabilities offer neither OAUTHBEARER nor XOAUTH2. */
  oauthUnsupported?: boolean;
}

/** What was being done when it failed. */
export interface Operation {
  /** e.g. "open the mailbox", "add flags" */
  doing: string;
  mailbox?: string;
  uid?: number | string;
}

/** The fields of imapflow, Node socket and TLS errors that classification reads. */
interface RawError {
  message?: string;
  code?: string;
  authenticationFailed?: boolean;
  tlsFailed?: boolean;
  mailboxMissing?: boolean;
  responseStatus?: string;
  responseText?: string;
  serverResponseCode?: string;
  /** The JSON a server sends before refusing an OAuth token (RFC 7628), e.g. {"status":"invalid_token"}. */
  oauthError?: unknown;
  _err?: RawError;
}

const CERTIFICATE_CODES = new Set([
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "CERT_SIGNATURE_FAILURE",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "HOSTNAME_MISMATCH",
]);

const TLS_HANDSHAKE_CODES = new Set([
  "EPROTO",
  "ERR_SSL_WRONG_VERSION_NUMBER",
  "ERR_SSL_PACKET_LENGTH_TOO_LONG",
  "ECONNRESET_TLS",
]);

const UNREACHABLE_CODES = new Set([
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EHOSTDOWN",
  "CONNECT_TIMEOUT",
]);

/** imapflow could not read what the server sent (garbled bytes, a broken literal, a stray tag). */
const UNREADABLE_RESPONSE_CODES = new Set([
  "ParserErrorExchange",
  "ParserErrorInternal",
  "UnexpectedTag",
  "MissingTag",
  "InvalidResponse",
  "ResponseProcessingFailed",
  "InvalidStringValue",
  "InvalidTokenValue",
  "InvalidTextValue",
  "TooManyTokens",
  "MAX_IMAP_NESTING_REACHED",
]);

const LOST_CODES = new Set([
  "NoConnection",
  "EConnectionClosed",
  "ECONNRESET",
  "EPIPE",
  "ClosedAfterConnectText",
  "ClosedAfterConnectTLS",
  "StateLogout",
]);

function raw(err: unknown): RawError {
  return typeof err === "object" && err !== null ? (err as RawError) : { message: String(err) };
}

function codeOf(err: RawError): string | undefined {
  return err.code ?? err._err?.code;
}

function serverSaid(err: RawError): string {
  const text = err.responseText?.trim();
  if (!text) return "";
  const code = err.serverResponseCode ? `[${err.serverResponseCode}] ` : "";
  return ` The server said: ${code}${text}`;
}

/** The status (and scope) of a server's OAuth error, the part that tells why a token was refused. */
function oauthSaid(err: RawError): string {
  const said = err.oauthError;
  if (typeof said !== "object" || said === null) return "";
  const { status, scope } = said as { status?: unknown; scope?: unknown };
  const parts: string[] = [];
  if (typeof status === "string" && status !== "") parts.push(`status ${status}`);
  if (typeof scope === "string" && scope !== "") parts.push(`required scope ${scope}`);
  return parts.length ? ` (OAuth error: ${parts.join(", ")})` : "";
}

const seconds = (ms: number): string => `${Math.round(ms / 100) / 10} s`;

function where(scope: ErrorScope): string {
  return `${scope.host}:${scope.port}`;
}

/** " (UID 42 in mailbox "Archive")", or "" when the operation names neither. */
export function onMailbox(op?: Operation): string {
  if (!op) return "";
  const parts: string[] = [];
  if (op.uid !== undefined) parts.push(`UID ${op.uid}`);
  if (op.mailbox !== undefined) parts.push(`mailbox "${op.mailbox}"`);
  return parts.length ? ` (${parts.join(" in ")})` : "";
}

type Rule = {
  when: (err: RawError, scope: ErrorScope) => boolean;
  code: ImapErrorCode;
  /** true: the connection's settings are at fault; the platform marks the connection. */
  connection: boolean;
  message: (err: RawError, scope: ErrorScope, op?: Operation) => string;
};

/** The one table of failures. First match wins. */
const RULES: Rule[] = [
  {
    when: (e, s) =>
      e.serverResponseCode === "PRIVACYREQUIRED" ||
      (e.authenticationFailed === true && s.loginDisabled === true),
    code: "LOGIN_DISABLED",
    connection: true,
    message: (e, s) =>
      `The server at ${where(s)} refuses to log in without encryption. Set encryption to "starttls" or "tls".${serverSaid(e)}`,
  },
  {
    // imapflow throws a plain Error (no code, no server reply) when it finds no mechanism to use
    when: (e, s) =>
      s.oauthUnsupported === true && e.authenticationFailed !== true && codeOf(e) === undefined,
    code: "OAUTH_UNSUPPORTED",
    connection: true,
    message: (_e, s) =>
      `The server at ${where(s)} does not offer OAuth 2.0 login (neither AUTH=OAUTHBEARER nor AUTH=XOAUTH2), so the token was not sent. Check the host and port (Microsoft 365: outlook.office365.com, Gmail: imap.gmail.com, both on 993 with "tls"), or use the password connection for this server.`,
  },
  {
    when: (e) => e.authenticationFailed === true && e.serverResponseCode === "UNAVAILABLE",
    code: "AUTHENTICATION_UNAVAILABLE",
    connection: false,
    message: (e, s) =>
      s.oauth
        ? `The server at ${where(s)} could not check the OAuth access token of "${s.user}" right now (temporary failure of its token validation). The token was not rejected: retry later; if it persists, the provider's sign-in service is down.${serverSaid(e)}`
        : `The server at ${where(s)} could not check the login of "${s.user}" right now (temporary failure). Retry later; if it persists, the server's authentication backend is down.${serverSaid(e)}`,
  },
  {
    when: (e) => e.authenticationFailed === true,
    code: "AUTHENTICATION_FAILED",
    connection: true,
    message: (e, s) =>
      s.oauth
        ? `The server at ${where(s)} rejected the OAuth access token for "${s.user}". Re-authorise the connection (the token may have expired or been revoked, or lacks the IMAP scope), and check that the username is the mailbox's address.${serverSaid(e)}${oauthSaid(e)}`
        : `Login to ${where(s)} as "${s.user}" failed: check the username and password. Some providers (Gmail, Microsoft 365) need an app password or OAuth 2.0 instead of the account password.${serverSaid(e)}`,
  },
  {
    when: (e) => CERTIFICATE_CODES.has(codeOf(e) ?? ""),
    code: "TLS_CERTIFICATE",
    connection: true,
    message: (e, s) =>
      `The TLS certificate of ${where(s)} was rejected (${codeOf(e)}). If the server uses a private or self-signed certificate authority, paste that CA certificate (PEM) into the connection's "CA Certificate" field; if the host name does not match the certificate, connect with the name the certificate was issued for. Turning "Verify Certificate" off is a last resort that allows interception of the password and mail.`,
  },
  {
    when: (e, s) => e.tlsFailed === true && s.encryption === "starttls" && !codeOf(e),
    code: "STARTTLS_UNAVAILABLE",
    connection: true,
    message: (_e, s) =>
      `The server at ${where(s)} does not offer STARTTLS, and the connection requires it, so nothing was sent in cleartext. Use encryption "tls" (usually port 993) if the server supports implicit TLS.`,
  },
  {
    when: (e) => TLS_HANDSHAKE_CODES.has(codeOf(e) ?? "") || e.tlsFailed === true,
    code: "TLS_HANDSHAKE",
    connection: true,
    message: (e, s) =>
      `The TLS handshake with ${where(s)} failed (${codeOf(e) ?? "no details"}). Check that the encryption setting matches the port: "tls" for implicit TLS (usually 993), "starttls" for a cleartext port that upgrades (usually 143).`,
  },
  {
    when: (e) => codeOf(e) === "ECONNREFUSED",
    code: "CONNECTION_REFUSED",
    connection: true,
    message: (_e, s) =>
      `Could not connect to ${where(s)}: the connection was refused. Check the host and port (implicit TLS is usually 993, STARTTLS and cleartext 143) and that the server accepts connections from here.`,
  },
  {
    when: (e) => codeOf(e) === "ENOTFOUND" || codeOf(e) === "EAI_AGAIN",
    code: "HOST_NOT_FOUND",
    connection: true,
    message: (_e, s) =>
      `The host name "${s.host}" could not be resolved. Check the connection's host.`,
  },
  {
    when: (e) => UNREACHABLE_CODES.has(codeOf(e) ?? ""),
    code: "CONNECT_TIMEOUT",
    connection: true,
    message: (_e, s) =>
      `Could not reach ${where(s)} within ${seconds(s.timeouts.connectMs)}: the host is unreachable or a firewall drops the connection. Check the host, the port and that the server accepts connections from here.`,
  },
  {
    when: (e) => codeOf(e) === "GREETING_TIMEOUT",
    code: "GREETING_TIMEOUT",
    connection: true,
    message: (_e, s) =>
      `Connected to ${where(s)}, but no IMAP greeting came within ${seconds(s.timeouts.greetingMs)}. Check that this port speaks IMAP and that the encryption setting matches it ("tls" for 993, "starttls" or "none" for 143).`,
  },
  {
    when: (e) => codeOf(e) === "ETIMEOUT",
    code: "SOCKET_TIMEOUT",
    connection: false,
    message: (_e, s, op) =>
      `The server at ${where(s)} stopped responding for ${seconds(s.timeouts.socketMs)} while trying to ${op?.doing ?? "run a command"}${onMailbox(op)}. Nothing more was sent; the step can be retried if the operation is safe to retry.`,
  },
  {
    when: (e) =>
      UNREADABLE_RESPONSE_CODES.has(codeOf(e) ?? "") || /^ParserError\d+$/.test(codeOf(e) ?? ""),
    code: "PROTOCOL_ERROR",
    connection: false,
    message: (e, s, op) =>
      `The server at ${where(s)} sent a response that could not be read (${codeOf(e)}) while trying to ${op?.doing ?? "run a command"}${onMailbox(op)}, so the connection was closed. This is usually bytes garbled on the way or a server fault, not a problem of the step: it can be retried if the operation is safe to retry; if it keeps happening, report it to the server's administrator.`,
  },
  {
    when: (e) => LOST_CODES.has(codeOf(e) ?? ""),
    code: "CONNECTION_LOST",
    connection: false,
    message: (_e, s, op) =>
      `The connection to ${where(s)} was closed unexpectedly while trying to ${op?.doing ?? "run a command"}${onMailbox(op)}. Check the server's availability; the step can be retried if the operation is safe to retry.`,
  },
  {
    when: (e) =>
      e.mailboxMissing === true ||
      e.serverResponseCode === "NONEXISTENT" ||
      codeOf(e) === "NotFound",
    code: "MAILBOX_NOT_FOUND",
    connection: false,
    message: (e, _s, op) =>
      `The mailbox "${op?.mailbox ?? "?"}" does not exist. Check the path (the List Mailboxes action shows every path) or create it first.${serverSaid(e)}`,
  },
  {
    when: (e) => e.serverResponseCode === "ALREADYEXISTS",
    code: "MAILBOX_EXISTS",
    connection: false,
    message: (e, _s, op) =>
      `Could not ${op?.doing ?? "run the command"}${onMailbox(op)}: a mailbox with that name already exists.${serverSaid(e)}`,
  },
  {
    when: (e) => e.responseStatus === "NO" || e.responseStatus === "BAD",
    code: "SERVER_REFUSED",
    connection: false,
    message: (e, _s, op) =>
      `The server refused to ${op?.doing ?? "run the command"}${onMailbox(op)}.${serverSaid(e) || ` It answered ${e.responseStatus} without a reason.`}`,
  },
];

/** `message` with every secret (password, token) replaced; a secret shorter than 3 characters cannot be told from ordinary text. */
export function redact(message: string, secrets: string[]): string {
  let out = message;
  for (const secret of secrets) {
    if (secret.length >= 3) out = out.split(secret).join("[redacted]");
  }
  return out;
}

/**
 * The error to show for `err`. Errors that are already ours pass through unchanged.
 */
export function translateError(err: unknown, scope: ErrorScope, op?: Operation): Error {
  if (err instanceof InputError || err instanceof ImapError || err instanceof ImapConnectionError)
    return err;
  const e = raw(err);
  const rule = RULES.find((candidate) => candidate.when(e, scope));
  if (rule) {
    const message = redact(rule.message(e, scope, op), scope.secrets);
    return rule.connection
      ? new ImapConnectionError(scope.connection, message, rule.code, err)
      : new ImapError(message, { code: rule.code, mailbox: op?.mailbox, uid: op?.uid, cause: err });
  }
  const detail = redact(e.message ?? String(err), scope.secrets);
  return new ImapError(
    `Could not ${op?.doing ?? "complete the IMAP operation"}${onMailbox(op)} on ${where(scope)}: ${detail}`,
    { code: "UNEXPECTED", mailbox: op?.mailbox, uid: op?.uid, cause: err },
  );
}
