/**
 * A token endpoint on loopback that answers like Microsoft's (client credentials with a secret
 * or a certificate-signed client assertion) and Google's (a service account's JWT bearer grant),
 * refusals included. Each token it issues is added to the map the introspection endpoint reads
 * (test/introspection.ts), so the test Dovecot accepts exactly the tokens issued here, for the
 * mailbox they were issued for.
 */
import type { KeyObject } from "node:crypto";
import { createHash, randomBytes, verify, X509Certificate } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

export const APP_ONLY_SCOPE = "https://outlook.office365.com/.default";
export const GOOGLE_SCOPE = "https://mail.google.com/";

export interface MicrosoftApp {
  clientId: string;
  /** The secret's value that is accepted. */
  secret?: string;
  /** A secret that was valid once: answered as Microsoft answers an expired secret. */
  expiredSecret?: string;
  /** The certificate (PEM) uploaded to the app registration. */
  certificatePem?: string;
  /** The one mailbox the app was given access to (Dovecot user the token logs in as). */
  mailbox: string;
}

export interface ServiceAccount {
  clientEmail: string;
  publicKey: KeyObject;
  /** Domain-wide delegation granted for https://mail.google.com/. */
  delegated: boolean;
}

export interface TokenEndpointOptions {
  /** The introspection endpoint's map of active tokens to users; issued tokens are added. */
  active: Record<string, string>;
  tenant: string;
  apps: MicrosoftApp[];
  serviceAccounts: ServiceAccount[];
  /** The users of the Workspace domain a service account may act as. */
  domainUsers: string[];
}

export interface TokenEndpoint {
  /** http://127.0.0.1:port, the connection's Authority. */
  readonly authority: string;
  /** The Google token_uri of the key files. */
  readonly googleTokenUri: string;
  /** Token requests answered or held so far. */
  readonly requests: number;
  /** The tokens issued so far, in order. */
  readonly issued: string[];
  /** expires_in of the tokens issued from now on. */
  expiresIn: number;
  /** While set, every answer waits for it (to see concurrent requests share one). */
  hold?: Promise<void>;
  /** Milliseconds each answer is delayed by (a real token endpoint's distance, for benchmarks). */
  delayMs: number;
  close(): Promise<void>;
}

function fromBase64url(part: string | undefined): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(part ?? "", "base64url").toString("utf8"));
    return typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The header and claims of an RS256 JWT whose signature `key` verifies; undefined otherwise. */
function verifiedJwt(
  jwt: string,
  key: KeyObject,
): { header: Record<string, unknown>; claims: Record<string, unknown> } | undefined {
  const [header, claims, signature] = jwt.split(".");
  if (header === undefined || claims === undefined || signature === undefined) return undefined;
  const ok = verify(
    "sha256",
    Buffer.from(`${header}.${claims}`),
    key,
    Buffer.from(signature, "base64url"),
  );
  if (!ok) return undefined;
  const decodedHeader = fromBase64url(header);
  if (decodedHeader.alg !== "RS256") return undefined;
  return { header: decodedHeader, claims: fromBase64url(claims) };
}

type Answer = { status: number; body: Record<string, unknown> };

/** Microsoft's error shape: error, AADSTS description, error_codes. */
function microsoftError(status: number, error: string, code: number, text: string): Answer {
  return {
    status,
    body: {
      error,
      // Microsoft's own end with trace and correlation IDs and a timestamp, left out here
      error_description: `AADSTS${code}: ${text}`,
      error_codes: [code],
      trace_id: "0000",
      correlation_id: "0000",
    },
  };
}

export async function startTokenEndpoint(options: TokenEndpointOptions): Promise<TokenEndpoint> {
  let requests = 0;
  const issued: string[] = [];
  const now = () => Math.floor(Date.now() / 1000);
  const state: { expiresIn: number; hold?: Promise<void>; delayMs: number } = {
    expiresIn: 3599,
    delayMs: 0,
  };
  let origin = "";

  const issue = (token: string, user: string): Answer => {
    options.active[token] = user;
    issued.push(token);
    return {
      status: 200,
      body: {
        token_type: "Bearer",
        expires_in: state.expiresIn,
        ext_expires_in: state.expiresIn,
        access_token: token,
      },
    };
  };

  const microsoft = (tenant: string, form: URLSearchParams): Answer => {
    if (tenant !== options.tenant) {
      return microsoftError(
        400,
        "invalid_request",
        90002,
        `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
      );
    }
    const clientId = form.get("client_id") ?? "";
    const app = options.apps.find((candidate) => candidate.clientId === clientId);
    if (!app) {
      return microsoftError(
        400,
        "unauthorized_client",
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${tenant}'.`,
      );
    }
    if (form.get("scope") !== APP_ONLY_SCOPE) {
      return microsoftError(
        400,
        "invalid_scope",
        70011,
        "The provided value for scope is not valid.",
      );
    }
    const secret = form.get("client_secret");
    const assertion = form.get("client_assertion");
    if (secret !== null) {
      if (app.expiredSecret !== undefined && secret === app.expiredSecret) {
        return microsoftError(
          401,
          "invalid_client",
          7000222,
          `The provided client secret keys for app '${clientId}' are expired.`,
        );
      }
      if (app.secret === undefined || secret !== app.secret) {
        return microsoftError(
          401,
          "invalid_client",
          7000215,
          "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
        );
      }
    } else if (assertion !== null) {
      const certificate = app.certificatePem ? new X509Certificate(app.certificatePem) : undefined;
      const jwt = certificate ? verifiedJwt(assertion, certificate.publicKey) : undefined;
      const thumbprint = certificate
        ? createHash("sha1").update(certificate.raw).digest("base64url")
        : "";
      const claims = jwt?.claims ?? {};
      const valid =
        form.get("client_assertion_type") ===
          "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" &&
        jwt?.header.x5t === thumbprint &&
        claims.aud === `${origin}/${tenant}/oauth2/v2.0/token` &&
        claims.iss === clientId &&
        claims.sub === clientId &&
        typeof claims.exp === "number" &&
        claims.exp > now() &&
        typeof claims.jti === "string";
      if (!valid) {
        return microsoftError(
          401,
          "invalid_client",
          700027,
          "Client assertion failed signature validation.",
        );
      }
    } else {
      return microsoftError(
        401,
        "invalid_client",
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      );
    }
    return issue(`eyJ0eXAiOiJKV1Qi.${randomBytes(48).toString("base64url")}.app-only`, app.mailbox);
  };

  const google = (form: URLSearchParams): Answer => {
    if (form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer") {
      return {
        status: 400,
        body: { error: "unsupported_grant_type", error_description: "Invalid grant_type: " },
      };
    }
    const assertion = form.get("assertion") ?? "";
    const claims = fromBase64url(assertion.split(".")[1]);
    const account = options.serviceAccounts.find(
      (candidate) => candidate.clientEmail === claims.iss,
    );
    const jwt = account ? verifiedJwt(assertion, account.publicKey) : undefined;
    if (!account || !jwt || jwt.claims.aud !== `${origin}/google/token`) {
      return {
        status: 400,
        body: { error: "invalid_grant", error_description: "Invalid JWT Signature." },
      };
    }
    const exp = jwt.claims.exp;
    if (typeof exp !== "number" || exp < now() || exp - now() > 3600) {
      return {
        status: 400,
        body: {
          error: "invalid_grant",
          error_description:
            "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.",
        },
      };
    }
    if (!account.delegated || jwt.claims.scope !== GOOGLE_SCOPE) {
      return {
        status: 401,
        body: {
          error: "unauthorized_client",
          error_description:
            "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.",
        },
      };
    }
    const subject = jwt.claims.sub;
    if (typeof subject !== "string" || !options.domainUsers.includes(subject)) {
      return {
        status: 400,
        body: { error: "invalid_grant", error_description: "Invalid email or User ID" },
      };
    }
    return issue(`ya29.c.${randomBytes(64).toString("base64url")}`, subject);
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", async () => {
      res.setHeader("connection", "close");
      const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
      const tenant = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(req.url ?? "")?.[1];
      let answer: Answer;
      if (req.method === "POST" && req.url === "/google/token") answer = google(form);
      else if (req.method === "POST" && tenant !== undefined)
        answer = microsoft(decodeURIComponent(tenant), form);
      else {
        res.writeHead(404).end();
        return;
      }
      requests += 1;
      if (state.hold) await state.hold;
      if (state.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, state.delayMs));
      res
        .writeHead(answer.status, { "content-type": "application/json; charset=utf-8" })
        .end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    authority: origin,
    googleTokenUri: `${origin}/google/token`,
    get requests() {
      return requests;
    },
    issued,
    get expiresIn() {
      return state.expiresIn;
    },
    set expiresIn(value: number) {
      state.expiresIn = value;
    },
    get delayMs() {
      return state.delayMs;
    },
    set delayMs(value: number) {
      state.delayMs = value;
    },
    get hold() {
      return state.hold;
    },
    set hold(value: Promise<void> | undefined) {
      state.hold = value;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
