/**
 * Every failure a builder can see goes through this file: imapflow, socket and TLS errors are
 * classified by their structured fields (never by message text) and turned into one clear
 * message that says what failed, where, and what to do. The original error stays as `cause`.
 */

import type { Connection } from "@prismatic-io/spectral";
import type { ImapFlowError } from "imapflow";
import { ImapFlowErrorCode } from "imapflow";
import { ConnectionError, SpectralError } from "./spectral";

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
  | "NOT_AUTHORIZED"
  | "MAILBOX_ACCESS_NOT_GRANTED"
  | "TOKEN_EXPIRED"
  | "TOKEN_CLIENT_SECRET_INVALID"
  | "TOKEN_CLIENT_SECRET_EXPIRED"
  | "TOKEN_CERTIFICATE_UNKNOWN"
  | "TOKEN_CLOCK_SKEW"
  | "TOKEN_APP_NOT_IN_TENANT"
  | "TOKEN_TENANT_NOT_FOUND"
  | "TOKEN_DELEGATION_MISSING"
  | "TOKEN_GRANT_INVALID"
  | "TOKEN_REJECTED"
  | "TOKEN_ENDPOINT_NOT_FOUND"
  | "TOKEN_ENDPOINT_UNAVAILABLE"
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

/** An app-only connection (no user signed in): what its setup-step messages name. */
export interface AppOnly {
  provider: "microsoft365" | "google";
  /** Microsoft: the application (client) ID; Google: the OAuth client ID delegation is granted to. */
  clientId: string;
  tenant?: string;
  /** Google: the service account's address. */
  serviceAccount?: string;
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
  appOnly?: AppOnly;
  /** When the session's access token expires (ms since the epoch), when it is known. */
  tokenExpiresAt?: number;
}

/** What was being done when it failed. */
export interface Operation {
  /** e.g. "open the mailbox", "add flags" */
  doing: string;
  mailbox?: string;
  uid?: number | string;
  /** The mailbox the command writes into (APPEND), named when the server answers TRYCREATE. */
  into?: string;
}

/**
 * imapflow's error, as classification reads it. Node's socket, TLS and DNS errors pass through
 * imapflow with their own `code` (ECONNREFUSED, CERT_HAS_EXPIRED, ...), sometimes wrapped in `_err`.
 */
type RawError = ImapFlowError & {
  /** Set on a failed token request (src/tokens.ts TokenRequestError), with the fields below. */
  tokenEndpoint?: string;
  httpStatus?: number;
  tokenError?: string;
  tokenErrorCodes?: number[];
  tokenErrorDescription?: string;
  /** The IMAP command whose answer could not be parsed (set by the session). */
  imapCommand?: string;
};

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

/** The token endpoint's own words: its OAuth error and description. */
function tokenSaid(err: RawError): string {
  const parts = [err.tokenError, err.tokenErrorDescription?.trim()].filter(Boolean);
  return parts.length ? ` The token endpoint said: ${parts.join(": ")}` : "";
}

/** Microsoft's AADSTS code among the answer's error codes. */
const aadsts = (err: RawError, code: number): boolean =>
  err.tokenEndpoint !== undefined && (err.tokenErrorCodes ?? []).includes(code);

const googleRefused = (err: RawError, scope: ErrorScope, error: string): boolean =>
  err.tokenEndpoint !== undefined &&
  scope.appOnly?.provider === "google" &&
  err.tokenError === error;

function appName(scope: ErrorScope): string {
  return `app ${scope.appOnly?.clientId ?? "?"}`;
}

function tenantName(scope: ErrorScope): string {
  return `tenant "${scope.appOnly?.tenant ?? "?"}"`;
}

/** The server ended the session because the token expired: Microsoft says so in its BYE ("Session invalidated - AccessTokenExpired"). */
function tokenExpiredInSession(err: RawError, scope: ErrorScope): boolean {
  if (!scope.oauth || !LOST_CODES.has(codeOf(err) ?? "")) return false;
  // the BYE's reason is a code word, not prose: the only structured sign the server gives
  if (/\bAccessTokenExpired\b/.test(err.reason ?? "")) return true;
  return scope.tokenExpiresAt !== undefined && Date.now() >= scope.tokenExpiresAt;
}

const SIGN_IN_APP = "App registrations (Microsoft Entra admin center > Identity > Applications)";

type Rule = {
  when: (err: RawError, scope: ErrorScope, op?: Operation) => boolean;
  code: ImapErrorCode;
  /** true: the connection's settings are at fault; the platform marks the connection. */
  connection: boolean;
  message: (err: RawError, scope: ErrorScope, op?: Operation) => string;
};

/** The one table of failures. First match wins. */
const RULES: Rule[] = [
  // Token requests of the app-only connections (src/tokens.ts): before the socket rules, since a
  // token endpoint that cannot be reached carries the same socket codes as an IMAP server.
  {
    when: (e) => aadsts(e, 7000215),
    code: "TOKEN_CLIENT_SECRET_INVALID",
    connection: true,
    message: (e, s) =>
      `Microsoft rejected the client secret of ${appName(s)} (AADSTS7000215). The Client Secret must be the secret's Value, not its Secret ID: in ${SIGN_IN_APP} > the app > Certificates & secrets, create a new client secret, copy its Value (shown only once) and save it in the connection.${tokenSaid(e)}`,
  },
  {
    when: (e) => aadsts(e, 7000222),
    code: "TOKEN_CLIENT_SECRET_EXPIRED",
    connection: true,
    message: (e, s) =>
      `The client secret of ${appName(s)} has expired (AADSTS7000222). In ${SIGN_IN_APP} > the app > Certificates & secrets, create a new client secret, save its Value in the connection, and note the new expiry date (or switch to the certificate connection).${tokenSaid(e)}`,
  },
  {
    when: (e) => aadsts(e, 700027) || aadsts(e, 700023),
    code: "TOKEN_CERTIFICATE_UNKNOWN",
    connection: true,
    message: (e, s) =>
      `Microsoft did not accept the certificate of ${appName(s)} (AADSTS700027): the certificate in the connection is not, or no longer, uploaded to this app registration. In ${SIGN_IN_APP} > the app > Certificates & secrets > Certificates, upload the certificate's public part (the -----BEGIN CERTIFICATE----- block saved as a .cer or .pem file).${tokenSaid(e)}`,
  },
  {
    when: (e) => aadsts(e, 700024),
    code: "TOKEN_CLOCK_SKEW",
    connection: false,
    message: (e, s) =>
      `Microsoft rejected the signed token request of ${appName(s)} as outside its valid time (AADSTS700024): this machine's clock is off. Retry; if it persists, the clock of the machine running the step needs correcting.${tokenSaid(e)}`,
  },
  {
    when: (e) => aadsts(e, 700016),
    code: "TOKEN_APP_NOT_IN_TENANT",
    connection: true,
    message: (e, s) =>
      `Microsoft found no application with client ID ${s.appOnly?.clientId ?? "?"} in ${tenantName(s)} (AADSTS700016). Check the Client ID (the Application (client) ID on the app registration's Overview page). If the app is registered in another tenant, it must be multi-tenant, and an administrator of this tenant must grant it admin consent (https://login.microsoftonline.com/${s.appOnly?.tenant ?? "<tenant>"}/adminconsent?client_id=${s.appOnly?.clientId ?? "<client ID>"}), which adds it to their Enterprise applications.${tokenSaid(e)}`,
  },
  {
    when: (e) => aadsts(e, 90002),
    code: "TOKEN_TENANT_NOT_FOUND",
    connection: true,
    message: (e, s) =>
      `Microsoft found no ${tenantName(s)} (AADSTS90002). Check the Tenant: the Directory (tenant) ID on the Overview page of Microsoft Entra ID, or one of the tenant's domains such as contoso.onmicrosoft.com; for a national cloud, also the Authority.${tokenSaid(e)}`,
  },
  {
    when: (e, s) => googleRefused(e, s, "unauthorized_client"),
    code: "TOKEN_DELEGATION_MISSING",
    connection: true,
    message: (e, s) =>
      `Google refused to let the service account ${s.appOnly?.serviceAccount ?? "?"} act as "${s.user}" (unauthorized_client): domain-wide delegation is not granted to client ID ${s.appOnly?.clientId ?? "?"} with the scope https://mail.google.com/. In the Google Admin console of that user's domain, open Security > Access and data control > API controls > Manage Domain Wide Delegation > Add new, enter client ID ${s.appOnly?.clientId ?? "?"} and the scope https://mail.google.com/ exactly, and authorise. It usually applies within minutes.${tokenSaid(e)}`,
  },
  {
    when: (e, s) => googleRefused(e, s, "invalid_grant"),
    code: "TOKEN_GRANT_INVALID",
    connection: true,
    message: (e, s) =>
      `Google refused the token request of the service account ${s.appOnly?.serviceAccount ?? "?"} for "${s.user}" (invalid_grant). Either "${s.user}" is not an active user of the Workspace domain that granted the delegation (the Mailbox Address must be the user's primary address, not a group, an alias or a consumer Gmail account), or this machine's clock is more than a few minutes off; or the key was deleted from the service account.${tokenSaid(e)}`,
  },
  {
    when: (e) => e.tokenEndpoint !== undefined && codeOf(e) === "ENOTFOUND",
    code: "TOKEN_ENDPOINT_NOT_FOUND",
    connection: true,
    message: (e) =>
      `The host of the token endpoint ${e.tokenEndpoint} could not be resolved. Check the connection's Authority (Microsoft) or the key file's token_uri (Google).`,
  },
  {
    when: (e) =>
      e.tokenEndpoint !== undefined &&
      e.httpStatus !== undefined &&
      e.httpStatus >= 400 &&
      e.httpStatus < 500 &&
      e.httpStatus !== 408 &&
      e.httpStatus !== 429,
    code: "TOKEN_REJECTED",
    connection: true,
    message: (e, s) =>
      `The token endpoint ${e.tokenEndpoint} refused to issue a token for ${s.appOnly?.provider === "google" ? `the service account ${s.appOnly.serviceAccount ?? "?"} acting as "${s.user}"` : appName(s)} (HTTP ${e.httpStatus}). Check the connection's ${s.appOnly?.provider === "google" ? "service account key (it may have been deleted or disabled)" : "tenant, client ID, credential and scopes"}.${tokenSaid(e)}`,
  },
  {
    when: (e) => e.tokenEndpoint !== undefined && CERTIFICATE_CODES.has(codeOf(e) ?? ""),
    code: "TOKEN_ENDPOINT_UNAVAILABLE",
    connection: false,
    message: (e) =>
      `Could not get an access token from ${e.tokenEndpoint}: its TLS certificate was rejected (${codeOf(e)}), so nothing was sent to it. A proxy or firewall between here and the endpoint may be intercepting TLS; the connection's CA Certificate applies to the IMAP server only.`,
  },
  {
    when: (e) => e.tokenEndpoint !== undefined,
    code: "TOKEN_ENDPOINT_UNAVAILABLE",
    connection: false,
    message: (e, s) =>
      `Could not get an access token from ${e.tokenEndpoint}: ${
        codeOf(e) === "CONNECT_TIMEOUT"
          ? `it could not be reached within ${seconds(s.timeouts.connectMs)}`
          : codeOf(e) === "RESPONSE_TIMEOUT"
            ? `it did not answer within ${seconds(s.timeouts.greetingMs)}`
            : e.httpStatus !== undefined
              ? `it answered HTTP ${e.httpStatus}`
              : `the request failed (${codeOf(e) ?? e.message ?? "no details"})`
      }. This is temporary, not a problem of the connection's settings: retry the step later. Nothing was sent to the IMAP server.${tokenSaid(e)}`,
  },
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
    when: (e, s) => e.authenticationFailed === true && s.appOnly?.provider === "microsoft365",
    code: "MAILBOX_ACCESS_NOT_GRANTED",
    connection: true,
    message: (e, s) =>
      `Microsoft 365 (${where(s)}) refused the app-only login of ${appName(s)} to the mailbox "${s.user}". The app got its token, so its secret or certificate is fine; its access to this mailbox is not set up. The causes, most common first: (1) the Exchange service principal was created with the App Registration's Object ID instead of the Enterprise Application's: run Get-ServicePrincipal | Where-Object AppId -eq "${s.appOnly?.clientId ?? "<client ID>"}", and if its ObjectId is not the one under Enterprise applications, remove it and run New-ServicePrincipal -AppId ${s.appOnly?.clientId ?? "<client ID>"} -ObjectId <Object ID from Enterprise applications>; (2) the app has no permission on this mailbox: Add-MailboxPermission -Identity "${s.user}" -User <that service principal's ObjectId> -AccessRights FullAccess; (3) IMAP.AccessAsApp was added under Microsoft Graph instead of Office 365 Exchange Online (API permissions > Add a permission > APIs my organization uses > Office 365 Exchange Online > Application permissions), or admin consent was not granted for it; (4) IMAP is disabled for the mailbox: Set-CASMailbox -Identity "${s.user}" -ImapEnabled $true. Changes can take up to an hour to apply.${serverSaid(e)}`,
  },
  {
    when: (e, s) => e.authenticationFailed === true && s.appOnly?.provider === "google",
    code: "MAILBOX_ACCESS_NOT_GRANTED",
    connection: true,
    message: (e, s) =>
      `Gmail (${where(s)}) refused the service account's login to the mailbox "${s.user}". The token was issued, so domain-wide delegation is in place; check that IMAP is allowed for this user (Google Admin console > Apps > Google Workspace > Gmail > End User Access > POP and IMAP access) and that the Mailbox Address is the user's primary address.${serverSaid(e)}${oauthSaid(e)}`,
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
    when: (e, s) => tokenExpiredInSession(e, s),
    code: "TOKEN_EXPIRED",
    connection: false,
    message: (e, s, op) =>
      `The access token for "${s.user}" expired during the step: ${where(s)} ended the session while trying to ${op?.doing ?? "run a command"}${onMailbox(op)}. Retry the step; it starts with a new token. If it recurs, the step runs longer than a token lives (about an hour): split the work into smaller steps.${e.reason ? ` The server said: ${e.reason}` : ""}`,
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
      `The server at ${where(s)} sent an answer the client could not parse while trying to ${op?.doing ?? "run a command"}${onMailbox(op)} (${codeOf(e)}), so nothing was taken from it.${e.imapCommand ? ` It was the server's answer to ${e.imapCommand}: a damaged response, not a refusal.` : ""} The step can be retried if the operation is safe to retry; if it keeps happening, the server or something between it and here (a proxy, a virus scanner) damages its answers: report it to the server's administrator.`,
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
    // RFC 3501 6.3.11: APPEND into a mailbox that does not exist is answered NO [TRYCREATE]
    when: (e, _s, op) => e.serverResponseCode === "TRYCREATE" && op?.into !== undefined,
    code: "MAILBOX_NOT_FOUND",
    connection: false,
    message: (e, _s, op) =>
      `The mailbox "${op?.into ?? "?"}" does not exist. Check the path (the List Mailboxes action shows every path) or create it first.${serverSaid(e)}`,
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
  const rule = RULES.find((candidate) => candidate.when(e, scope, op));
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
