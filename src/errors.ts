/**
 * Every failure a builder can see goes through this file: imapflow, socket and TLS errors are
 * classified by their structured fields (never by message text) and turned into one clear
 * message that says what failed, where, and what to do. The original error stays as `cause`.
 */

import type { Connection } from "@prismatic-io/spectral";
import { ConnectionError, SpectralError } from "@prismatic-io/spectral";
import type { ImapFlowError } from "imapflow";
import { ImapFlowErrorCode } from "imapflow";

/**
 * Keeps the original error as `cause` (not enumerable: it stays out of JSON and of the step's
 * output). SpectralError's constructor takes no options, hence the property.
 */
function withCause(error: Error, cause: unknown): void {
  if (cause !== undefined)
    Object.defineProperty(error, "cause", { value: cause, enumerable: false });
}

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
  | "TLS_HANDSHAKE_TIMEOUT"
  | "ENCRYPTION_MISMATCH"
  | "TLS_CERTIFICATE"
  | "TLS_HANDSHAKE"
  | "TLS_DAMAGED"
  | "STARTTLS_UNAVAILABLE"
  | "STARTTLS_TIMEOUT"
  | "STARTTLS_INJECTION"
  | "LOGIN_DISABLED"
  | "OAUTH_UNSUPPORTED"
  | "SOCKET_TIMEOUT"
  | "CONNECTION_LOST"
  | "THROTTLED"
  | "DOWNLOAD_INCOMPLETE"
  | "MESSAGE_UNPARSEABLE"
  | "REQUEST_REFUSED_BY_CLIENT"
  | "CLIENT_INCOMPATIBLE"
  | "MAILBOX_NOT_FOUND"
  | "MAILBOX_EXISTS"
  | "MESSAGE_NOT_FOUND"
  | "UIDVALIDITY_CHANGED"
  | "SPECIAL_USE_NOT_FOUND"
  | "SAME_MAILBOX"
  | "NOT_GMAIL"
  | "PART_AMBIGUOUS"
  | "MISSING_EXTENSION"
  | "UNSAFE_EXPUNGE"
  | "COPY_INCOMPLETE"
  | "APPENDED_UID_UNKNOWN"
  | "PART_NOT_FOUND"
  | "CONTENT_MISSING"
  | "CURSOR_INVALID"
  | "RESPONSE_DAMAGED"
  | "RESPONSE_INCOMPLETE"
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
    withCause(this, details.cause);
  }
}

/** A failure caused by the connection's settings or credentials: the platform flags the connection. */
export class ImapConnectionError extends ConnectionError {
  readonly code: ImapErrorCode;

  constructor(connection: Connection, message: string, code: ImapErrorCode, cause?: unknown) {
    super(connection, message);
    this.name = "ImapConnectionError";
    this.code = code;
    withCause(this, cause);
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
  /** The TCP connection was made before the failure (so the host is reachable). */
  tcpConnected?: boolean;
  /** starttls or none on a port known for implicit TLS (993). */
  likelyNeedsTls?: boolean;
}

/** What was being done when it failed. */
export interface Operation {
  /** e.g. "open the mailbox", "add flags" */
  doing: string;
  mailbox?: string;
  uid?: number | string;
}

/**
 * imapflow's error, as classification reads it. Node's socket, TLS and DNS errors pass through
 * imapflow with their own `code` (ECONNREFUSED, CERT_HAS_EXPIRED, ...), sometimes wrapped in `_err`.
 */
type RawError = ImapFlowError;

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

/** OpenSSL's codes for a record that fails its integrity check or cannot be decoded. */
const TLS_RECORD_CODES = new Set([
  "ERR_SSL_DECRYPTION_FAILED_OR_BAD_RECORD_MAC",
  "ERR_SSL_DECRYPTION_FAILED",
  "ERR_SSL_BAD_RECORD_MAC",
  "ERR_SSL_SSLV3_ALERT_BAD_RECORD_MAC",
  "ERR_SSL_TLSV1_ALERT_DECRYPTION_FAILED",
  "ERR_SSL_BAD_LENGTH",
  "ERR_SSL_RECORD_LAYER_FAILURE",
  "ERR_SSL_UNEXPECTED_RECORD",
  "ERR_SSL_BAD_DECOMPRESSION",
]);

const C = ImapFlowErrorCode;

const UNREACHABLE_CODES = new Set<string>([
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EHOSTDOWN",
  C.CONNECT_TIMEOUT,
]);

const LOST_CODES = new Set<string>([
  C.NoConnection,
  C.EConnectionClosed,
  "ECONNRESET",
  "EPIPE",
  C.ClosedAfterConnectText,
  C.ClosedAfterConnectTLS,
  C.StateLogout,
  // a NOOP/STATUS poll that failed: the connection is no longer usable
  C.PollFailed,
]);

/** The server sent something the client could not read: bytes damaged on the way, or a server bug. */
const PROTOCOL_CODES = new Set<string>([
  C.ParserError,
  C.ParserErrorExchange,
  C.ParserErrorInternal,
  C.UnexpectedTag,
  C.MissingTag,
  C.InvalidResponse,
  C.ResponseProcessingFailed,
  C.MAX_IMAP_NESTING_REACHED,
  C.LineTooLarge,
  C.LiteralTooLarge,
  C.ResponseTooLarge,
  C.TooManyTokens,
  C.TooManyResponses,
  C.COMPRESS_TRAILING_DATA,
]);

/** Values imapflow refused to put on the wire; inputs are checked before this, so it is our bug. */
const REFUSED_VALUE_CODES = new Set<string>([
  C.InvalidStringValue,
  C.InvalidTokenValue,
  C.InvalidTextValue,
  C.InvalidSequenceSet,
  C.InvalidSearchQuery,
  C.InvalidMessageContent,
]);

/** Ways of using imapflow that this component never takes (proxies, reused clients, IDLE locks). */
const CLIENT_MISUSE_CODES = new Set<string>([
  C.LockTimeout,
  C.ProxyError,
  C.EPROXY,
  C.UnsupportedProxyAddress,
  C.ERR_INVALID_URL,
  C.UnsupportedTransportOption,
  C.InstanceReused,
  C.NoMailboxSelected,
]);

function raw(err: unknown): RawError {
  return typeof err === "object" && err !== null
    ? (err as RawError)
    : { name: "Error", message: String(err) };
}

function codeOf(err: RawError): string | undefined {
  return err.code ?? (err._err as RawError | undefined)?.code;
}

/** ParserError, ParserError11, ...: imapflow numbers its parser failures. */
function isProtocolCode(code: string | undefined): boolean {
  return code !== undefined && (PROTOCOL_CODES.has(code) || /^ParserError\d+$/.test(code));
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
    when: (e) => codeOf(e) === C.UPGRADE_TIMEOUT,
    code: "STARTTLS_TIMEOUT",
    connection: true,
    message: (_e, s) =>
      `Connected to ${where(s)}, but the STARTTLS upgrade did not complete in time: the server accepted STARTTLS and then did not finish the TLS handshake. Check that the port is a STARTTLS port (usually 143); for implicit TLS (usually 993) set encryption to "tls".`,
  },
  {
    when: (e) => codeOf(e) === C.STARTTLS_INJECTION,
    code: "STARTTLS_INJECTION",
    connection: true,
    message: (_e, s) =>
      `The server at ${where(s)} (or something between it and here) sent data before the STARTTLS upgrade had finished, which is how a man-in-the-middle injects commands. The connection was closed and nothing was sent. Use encryption "tls" on the implicit TLS port (usually 993) if the server offers it, and tell the server's administrator.`,
  },
  {
    // The bytes were changed on the way: no setting causes (or cures) that.
    when: (e) => TLS_RECORD_CODES.has(codeOf(e) ?? ""),
    code: "TLS_DAMAGED",
    connection: false,
    message: (e, s, op) =>
      `The encrypted connection to ${where(s)} broke while trying to ${op?.doing ?? "run a command"}${onMailbox(op)}: a TLS record arrived damaged (${codeOf(e)}), so the connection was closed. This is not a settings problem: something on the network (a proxy or firewall that inspects TLS, a faulty link) or the server changed the data. The step can be retried if the operation is safe to retry; if it persists, check what sits between here and the server.`,
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
    when: (e, s) => codeOf(e) === C.CONNECT_TIMEOUT && s.tcpConnected === true,
    code: "TLS_HANDSHAKE_TIMEOUT",
    connection: true,
    message: (_e, s) =>
      s.encryption === "tls"
        ? `Connected to ${where(s)}, but the TLS handshake did not complete within ${seconds(s.timeouts.connectMs)}: the host is reachable and the port accepts connections, but it does not answer TLS. Check that this port speaks implicit TLS (usually 993); for a port that starts in cleartext (usually 143) set encryption to "starttls".`
        : `Connected to ${where(s)}, but the server did not answer within ${seconds(s.timeouts.connectMs)}. Check that this port speaks IMAP.`,
  },
  {
    when: (e) => UNREACHABLE_CODES.has(codeOf(e) ?? ""),
    code: "CONNECT_TIMEOUT",
    connection: true,
    message: (_e, s) =>
      `Could not reach ${where(s)} within ${seconds(s.timeouts.connectMs)}: the host is unreachable or a firewall drops the connection. Check the host, the port and that the server accepts connections from here.`,
  },
  {
    when: (e, s) => codeOf(e) === C.GREETING_TIMEOUT && s.likelyNeedsTls === true,
    code: "ENCRYPTION_MISMATCH",
    connection: true,
    message: (_e, s) =>
      `Connected to ${where(s)}, but the server said nothing for ${seconds(s.timeouts.greetingMs)}: port ${s.port} is the implicit-TLS port, which waits for a TLS handshake before it greets, and the connection is set to "${s.encryption}". Set encryption to "tls" (or keep "${s.encryption}" and use port 143).`,
  },
  {
    when: (e) => codeOf(e) === C.GREETING_TIMEOUT,
    code: "GREETING_TIMEOUT",
    connection: true,
    message: (_e, s) =>
      `Connected to ${where(s)}, but no IMAP greeting came within ${seconds(s.timeouts.greetingMs)}. Check that this port speaks IMAP and that the encryption setting matches it ("tls" for 993, "starttls" or "none" for 143).`,
  },
  {
    when: (e) => codeOf(e) === C.ETIMEOUT,
    code: "SOCKET_TIMEOUT",
    connection: false,
    message: (_e, s, op) =>
      `The server at ${where(s)} stopped responding for ${seconds(s.timeouts.socketMs)} while trying to ${op?.doing ?? "run a command"}${onMailbox(op)}. Nothing more was sent; the step can be retried if the operation is safe to retry.`,
  },
  {
    when: (e) => LOST_CODES.has(codeOf(e) ?? ""),
    code: "CONNECTION_LOST",
    connection: false,
    message: (_e, s, op) =>
      `The connection to ${where(s)} was closed unexpectedly while trying to ${op?.doing ?? "run a command"}${onMailbox(op)}. Check the server's availability; the step can be retried if the operation is safe to retry.`,
  },
  {
    when: (e) => codeOf(e) === C.ETHROTTLE,
    code: "THROTTLED",
    connection: false,
    message: (e, s, op) =>
      `The server at ${where(s)} is throttling this account and refused to ${op?.doing ?? "run the command"}${onMailbox(op)} for now (Microsoft 365 limits how many commands and connections an account may use). Nothing was changed by the refused command. Retry ${typeof e.throttleReset === "number" ? `after ${seconds(e.throttleReset)}` : "later"}, and spread the flow's steps over time if it happens often.${serverSaid(e)}`,
  },
  {
    // imapflow fails the command whose completion line it could not parse (ParserError1, ...).
    when: (e) => isProtocolCode(codeOf(e)),
    code: "RESPONSE_DAMAGED",
    connection: false,
    message: (e, s, op) =>
      `The server at ${where(s)} sent an answer the client could not parse while trying to ${op?.doing ?? "run a command"}${onMailbox(op)} (${codeOf(e)}), so nothing was taken from it. The step can be retried if the operation is safe to retry; if it keeps happening, the server or something between it and here (a proxy, a virus scanner) damages its answers: report it to the server's administrator.`,
  },
  {
    when: (e) => codeOf(e) === C.DownloadOverflow || codeOf(e) === C.DownloadIncomplete,
    code: "DOWNLOAD_INCOMPLETE",
    connection: false,
    message: (_e, s, op) =>
      `The server at ${where(s)} sent less or more content than it announced while trying to ${op?.doing ?? "download"}${onMailbox(op)}, so nothing was returned. Retry the step; downloading changes nothing on the server.`,
  },
  {
    when: (e) => codeOf(e) === C.MissingServerExtension,
    code: "MISSING_EXTENSION",
    connection: false,
    message: (e, s, op) =>
      `The server at ${where(s)} lacks an IMAP extension needed to ${op?.doing ?? "run the command"}${onMailbox(op)}: ${e.message}. Nothing was changed.`,
  },
  {
    when: (e) => REFUSED_VALUE_CODES.has(codeOf(e) ?? ""),
    code: "REQUEST_REFUSED_BY_CLIENT",
    connection: false,
    message: (e, _s, op) =>
      `Could not ${op?.doing ?? "run the command"}${onMailbox(op)}: the IMAP client refused to send a value it cannot encode (${codeOf(e)}: ${e.message}). Nothing was sent or changed. Check the inputs for unusual characters, and report it: the inputs should have been refused before connecting.`,
  },
  {
    when: (e) => CLIENT_MISUSE_CODES.has(codeOf(e) ?? ""),
    code: "CLIENT_INCOMPATIBLE",
    connection: false,
    message: (e, _s, op) =>
      `Could not ${op?.doing ?? "run the command"}${onMailbox(op)}: the IMAP client reported ${codeOf(e)} (${e.message}), which this component's sessions never cause. Retry the step, and report it if it persists.`,
  },
  {
    when: (e) =>
      e.mailboxMissing === true ||
      e.serverResponseCode === "NONEXISTENT" ||
      codeOf(e) === C.NotFound,
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

/**
 * A server answer without a field the component relies on (e.g. UIDVALIDITY in SELECT):
 * `command` is the IMAP command that should have carried it, `needs` what it is needed for.
 */
export function incompleteAnswer(
  mailbox: string,
  command: string,
  missing: string[],
  needs: string,
): ImapError {
  return new ImapError(
    `The server's answer to ${command} of mailbox "${mailbox}" did not include ${missing.join(" and ")}, which the component needs to ${needs}. Nothing was changed. Retry the step; if it keeps happening, the server does not follow the IMAP standard here (RFC 3501 requires ${missing.join(" and ")}): report it to the server's administrator.`,
    { code: "RESPONSE_INCOMPLETE", mailbox },
  );
}

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
