/**
 * Access tokens the component gets for itself: a Microsoft 365 client-credentials grant with a
 * certificate-signed client assertion (RFC 7523, `x5t` header) and a Google service account's
 * JWT bearer grant. Tokens are cached per process and shared by every invocation that asks for
 * the same one; a token is never logged, never put in an error and never stored on the connection.
 */
import type { KeyObject } from "node:crypto";
import { randomUUID, sign } from "node:crypto";
import http from "node:http";
import https from "node:https";
import { hasControlCharacters } from "./inputs";

interface GrantBase {
  /** Where the grant is posted. */
  tokenUrl: string;
  /** Microsoft: the application (client) ID; Google: the service account's client_email. */
  clientId: string;
  /**
   * Whose mailbox the token opens: "" for Microsoft (an app-only token serves every mailbox
   * the app was given access to), the Workspace user for Google (the JWT's `sub`).
   */
  subject: string;
  scope: string;
  key: KeyObject;
  /** Identifies the credential without holding it, so a rotated key never gets another's token. */
  fingerprint: string;
}

export interface ClientAssertionGrant extends GrantBase {
  kind: "clientAssertion";
  /** The certificate's `x5t`. */
  thumbprint: string;
}

export interface JwtBearerGrant extends GrantBase {
  kind: "jwtBearer";
  /** The key file's private_key_id, sent as `kid`. */
  keyId?: string;
}

/** Microsoft's client credentials with a client secret (when the platform has no token for the connection). */
export interface ClientSecretGrant extends Omit<GrantBase, "key"> {
  kind: "clientSecret";
  clientSecret: string;
}

export type TokenGrant = ClientAssertionGrant | JwtBearerGrant | ClientSecretGrant;

export interface MintedToken {
  accessToken: string;
  /** Milliseconds since the epoch (on `tokenClock`). */
  expiresAt: number;
}

export interface TokenLimits {
  /** DNS, TCP and TLS handshake with the token endpoint. */
  connectMs: number;
  /** From connected to the whole answer. */
  responseMs: number;
}

/** A cached token is renewed this long before it expires, so no step starts with a token about to lapse. */
export const RENEW_BEFORE_MS = 5 * 60_000;

/** The cache's clock; tests move it forward instead of waiting an hour. */
export const tokenClock = { now: (): number => Date.now() };

const MAX_RESPONSE_BYTES = 256 * 1024;
const MAX_CACHED = 1000;

/** A token endpoint's refusal or failure, with the structured fields errors.ts classifies it by. */
export class TokenRequestError extends Error {
  /** The endpoint, without query or fragment. */
  readonly tokenEndpoint: string;
  readonly httpStatus?: number;
  /** The OAuth `error` of the answer (invalid_client, unauthorized_client, invalid_grant, ...). */
  readonly tokenError?: string;
  /** Microsoft's `error_codes` (the numbers of its AADSTS codes). */
  readonly tokenErrorCodes: number[];
  readonly tokenErrorDescription?: string;
  /** For failures without an answer: the socket's code, CONNECT_TIMEOUT, RESPONSE_TIMEOUT or INVALID_RESPONSE. */
  readonly code?: string;

  constructor(
    message: string,
    details: {
      tokenEndpoint: string;
      httpStatus?: number;
      tokenError?: string;
      tokenErrorCodes?: number[];
      tokenErrorDescription?: string;
      code?: string;
      cause?: unknown;
    },
  ) {
    super(message);
    this.name = "TokenRequestError";
    this.tokenEndpoint = details.tokenEndpoint;
    this.httpStatus = details.httpStatus;
    this.tokenError = details.tokenError;
    this.tokenErrorCodes = details.tokenErrorCodes ?? [];
    this.tokenErrorDescription = details.tokenErrorDescription;
    this.code = details.code;
    if (details.cause !== undefined)
      Object.defineProperty(this, "cause", { value: details.cause, enumerable: false });
  }
}

function encodedJson(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

/** A compact JWS signed with RS256. */
export function signedJwt(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  key: KeyObject,
): string {
  const input = `${encodedJson({ alg: "RS256", typ: "JWT", ...header })}.${encodedJson(claims)}`;
  return `${input}.${sign("sha256", Buffer.from(input), key).toString("base64url")}`;
}

/** The form the grant posts, signed now (`nowMs` on the real clock: the endpoint checks the times). */
export function grantBody(grant: TokenGrant, nowMs: number = Date.now()): URLSearchParams {
  const now = Math.floor(nowMs / 1000);
  if (grant.kind === "clientSecret") {
    return new URLSearchParams({
      grant_type: "client_credentials",
      client_id: grant.clientId,
      client_secret: grant.clientSecret,
      scope: grant.scope,
    });
  }
  if (grant.kind === "clientAssertion") {
    const assertion = signedJwt(
      { x5t: grant.thumbprint },
      {
        aud: grant.tokenUrl,
        iss: grant.clientId,
        sub: grant.clientId,
        jti: randomUUID(),
        nbf: now,
        iat: now,
        exp: now + 600,
      },
      grant.key,
    );
    return new URLSearchParams({
      grant_type: "client_credentials",
      client_id: grant.clientId,
      scope: grant.scope,
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      client_assertion: assertion,
    });
  }
  const assertion = signedJwt(
    grant.keyId ? { kid: grant.keyId } : {},
    {
      iss: grant.clientId,
      sub: grant.subject,
      scope: grant.scope,
      aud: grant.tokenUrl,
      iat: now,
      exp: now + 3600,
    },
    grant.key,
  );
  return new URLSearchParams({
    grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer",
    assertion,
  });
}

function endpointOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

/** POSTs `body` with one fresh socket (closed with the answer); each phase is bounded. */
function post(
  url: string,
  body: string,
  limits: TokenLimits,
): Promise<{ status: number; text: string }> {
  const target = new URL(url);
  const tokenEndpoint = endpointOf(url);
  const secure = target.protocol === "https:";
  return new Promise((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      return true;
    };
    const request = (secure ? https : http).request(
      target,
      {
        method: "POST",
        // no pooled socket: nothing stays open after the answer
        agent: false,
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          accept: "application/json",
          "content-length": Buffer.byteLength(body),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            fail(
              new TokenRequestError(
                `The token endpoint's answer exceeds ${MAX_RESPONSE_BYTES} bytes.`,
                {
                  tokenEndpoint,
                  code: "INVALID_RESPONSE",
                },
              ),
            );
            return;
          }
          chunks.push(chunk);
        });
        response.on("end", () => {
          if (finish())
            resolve({
              status: response.statusCode ?? 0,
              text: Buffer.concat(chunks).toString("utf8"),
            });
        });
        response.on("error", (err) => fail(err));
      },
    );
    const fail = (err: unknown): void => {
      if (!finish()) return;
      request.destroy();
      if (err instanceof TokenRequestError) {
        reject(err);
        return;
      }
      const code = (err as { code?: unknown }).code;
      reject(
        new TokenRequestError(
          `The token request failed: ${err instanceof Error ? err.message : String(err)}`,
          { tokenEndpoint, code: typeof code === "string" ? code : undefined, cause: err },
        ),
      );
    };
    const deadline = (code: string, ms: number): void => {
      clearTimeout(timer);
      timer = setTimeout(
        () =>
          fail(
            new TokenRequestError(`No answer from the token endpoint within ${ms} ms.`, {
              tokenEndpoint,
              code,
            }),
          ),
        ms,
      );
    };
    deadline("CONNECT_TIMEOUT", limits.connectMs);
    request.on("socket", (socket) => {
      socket.once(secure ? "secureConnect" : "connect", () =>
        deadline("RESPONSE_TIMEOUT", limits.responseMs),
      );
    });
    request.on("error", fail);
    request.end(body);
  });
}

function parseAnswer(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

const asString = (value: unknown): string | undefined =>
  typeof value === "string" && value !== "" ? value : undefined;

/** One token request, without the cache. */
export async function requestToken(grant: TokenGrant, limits: TokenLimits): Promise<MintedToken> {
  const tokenEndpoint = endpointOf(grant.tokenUrl);
  const askedAt = tokenClock.now();
  const { status, text } = await post(grant.tokenUrl, grantBody(grant).toString(), limits);
  const answer = parseAnswer(text);
  if (status !== 200) {
    const codes = Array.isArray(answer.error_codes)
      ? answer.error_codes.filter((code): code is number => typeof code === "number")
      : [];
    throw new TokenRequestError(`The token endpoint answered HTTP ${status}.`, {
      tokenEndpoint,
      httpStatus: status,
      tokenError: asString(answer.error),
      tokenErrorCodes: codes,
      tokenErrorDescription: asString(answer.error_description),
    });
  }
  const accessToken = asString(answer.access_token);
  const expiresIn = Number(answer.expires_in);
  // a control character would end the SASL field early
  if (!accessToken || hasControlCharacters(accessToken) || !Number.isFinite(expiresIn)) {
    throw new TokenRequestError(
      "The token endpoint answered without a usable access_token and expires_in.",
      { tokenEndpoint, httpStatus: status, code: "INVALID_RESPONSE" },
    );
  }
  return { accessToken, expiresAt: askedAt + expiresIn * 1000 };
}

const cached = new Map<string, MintedToken>();
const inFlight = new Map<string, Promise<MintedToken>>();

function cacheKey(grant: TokenGrant): string {
  return JSON.stringify([
    endpointOf(grant.tokenUrl),
    grant.clientId,
    grant.subject,
    grant.scope,
    grant.fingerprint,
  ]);
}

function remember(key: string, token: MintedToken): void {
  if (cached.size >= MAX_CACHED) {
    const now = tokenClock.now();
    for (const [other, entry] of cached) if (entry.expiresAt <= now) cached.delete(other);
    // still full: the oldest entry goes
    const oldest = cached.keys().next();
    if (cached.size >= MAX_CACHED && !oldest.done) cached.delete(oldest.value);
  }
  cached.set(key, token);
}

/**
 * The access token for `grant`: the cached one while it has more than five minutes left, else
 * a new one; however many invocations ask at once, one request per grant is in flight.
 */
export function accessTokenFor(grant: TokenGrant, limits: TokenLimits): Promise<MintedToken> {
  const key = cacheKey(grant);
  const token = cached.get(key);
  if (token && tokenClock.now() < token.expiresAt - RENEW_BEFORE_MS) return Promise.resolve(token);
  let request = inFlight.get(key);
  if (!request) {
    request = requestToken(grant, limits)
      .then((minted) => {
        remember(key, minted);
        return minted;
      })
      .finally(() => inFlight.delete(key));
    inFlight.set(key, request);
  }
  return request;
}

/**
 * Drops the cached token of `grant` when the server refused it: the mailbox permissions or the
 * consent may have changed since it was issued, and the next invocation should ask again.
 */
export function forgetToken(grant: TokenGrant, accessToken: string): void {
  const key = cacheKey(grant);
  if (cached.get(key)?.accessToken === accessToken) cached.delete(key);
}

/** Empties the cache (tests). */
export function clearTokenCache(): void {
  cached.clear();
}
