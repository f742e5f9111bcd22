/**
 * The credentials an app-only connection signs its token requests with: a Microsoft 365 app's
 * certificate (private key and certificate in PEM) and a Google service account's JSON key.
 * Both are checked here, before any network traffic, and nothing of a key ever appears in an
 * error message.
 */
import type { KeyObject } from "node:crypto";
import { createHash, createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import { InputError } from "./errors";

/** A private key with the certificate an app registration knows it by. */
export interface CertificateCredential {
  key: KeyObject;
  /** base64url SHA-1 of the certificate's DER bytes: the `x5t` header Microsoft looks the certificate up by. */
  thumbprint: string;
  /** SHA-256 of the certificate, to tell two credentials of one client apart without holding the key. */
  fingerprint: string;
  /** When the certificate stops being accepted, ISO 8601. */
  validTo: string;
}

/** The parts of a Google service account key file that sign and send the token request. */
export interface ServiceAccountCredential {
  clientEmail: string;
  /** The numeric OAuth client ID that domain-wide delegation is granted to, when the file has it. */
  clientId?: string;
  keyId?: string;
  key: KeyObject;
  /** The key as the file holds it, to keep out of every message. */
  privateKeyPem: string;
  tokenUri: string;
  fingerprint: string;
}

const PRIVATE_KEY_BLOCK =
  /-----BEGIN (RSA |EC )?PRIVATE KEY-----[\s\S]*?-----END (RSA |EC )?PRIVATE KEY-----/;
const CERTIFICATE_BLOCKS = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

function rsaKey(pem: string, what: string, fix: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    // the crypto error says nothing the builder can act on, and could quote the key
    throw new InputError(`${what} could not be read as a private key. ${fix}`);
  }
  if (key.asymmetricKeyType !== "rsa") {
    throw new InputError(
      `${what} is an ${key.asymmetricKeyType ?? "unknown"} key; the token request must be signed with an RSA key (RS256). ${fix}`,
    );
  }
  return key;
}

/**
 * Reads the connection's Certificate field: one unencrypted PEM private key (RSA) and the
 * certificate uploaded to the app registration, in either order; chain certificates may follow.
 */
export function parseCertificateCredential(
  value: string,
  now: Date = new Date(),
): CertificateCredential {
  const field = "The connection's Certificate";
  const fix =
    "Paste the private key (-----BEGIN PRIVATE KEY-----, unencrypted) followed by its certificate (-----BEGIN CERTIFICATE-----), for example the output of: openssl pkcs12 -in app.pfx -nodes";
  if (value.trim() === "") throw new InputError(`${field} is empty. ${fix}`);
  if (value.includes("-----BEGIN ENCRYPTED PRIVATE KEY-----")) {
    throw new InputError(
      `${field} holds a password-protected private key, which cannot be used unattended. Export it without a password (openssl pkey -in key.pem -out plain.pem) and paste that.`,
    );
  }
  const keyBlock = PRIVATE_KEY_BLOCK.exec(value)?.[0];
  if (!keyBlock) throw new InputError(`${field} has no private key. ${fix}`);
  const key = rsaKey(keyBlock, field, fix);
  const blocks = value.match(CERTIFICATE_BLOCKS) ?? [];
  if (blocks.length === 0) throw new InputError(`${field} has no certificate. ${fix}`);
  const certificates: X509Certificate[] = [];
  for (const block of blocks) {
    try {
      certificates.push(new X509Certificate(block));
    } catch {
      throw new InputError(
        `${field} contains a certificate that could not be read: paste each certificate whole, from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----.`,
      );
    }
  }
  const certificate = certificates.find((candidate) => candidate.checkPrivateKey(key));
  if (!certificate) {
    throw new InputError(
      `${field}: the private key does not belong to ${certificates.length > 1 ? "any of its certificates" : "its certificate"}. Paste the key and the certificate that were created together.`,
    );
  }
  if (new Date(certificate.validTo).getTime() <= now.getTime()) {
    throw new InputError(
      `${field} expired on ${new Date(certificate.validTo).toISOString()} (subject ${certificate.subject}). Create a new certificate, upload its public part under the app registration's Certificates & secrets, and paste the new key and certificate here.`,
    );
  }
  return {
    key,
    thumbprint: createHash("sha1").update(certificate.raw).digest("base64url"),
    fingerprint: createHash("sha256").update(certificate.raw).digest("hex"),
    validTo: new Date(certificate.validTo).toISOString(),
  };
}

/** True for https URLs, and for http on a loopback address (a token service on this machine). */
export function isAllowedTokenUrl(url: URL): boolean {
  if (url.protocol === "https:") return true;
  if (url.protocol !== "http:") return false;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  return host === "localhost" || (isIP(host) !== 0 && (host.startsWith("127.") || host === "::1"));
}

function stringField(json: Record<string, unknown>, name: string): string | undefined {
  const value = json[name];
  return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
}

/** Reads the connection's Service Account Key field: the whole JSON key file of the service account. */
export function parseServiceAccountKey(value: string): ServiceAccountCredential {
  const field = "The connection's Service Account Key";
  const download =
    "In the Google Cloud console open IAM & Admin > Service Accounts > the account > Keys > Add key > Create new key > JSON, and paste the whole file.";
  if (value.trim() === "") throw new InputError(`${field} is empty. ${download}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    // JSON.parse quotes the text around the error, which may be part of the private key
    throw new InputError(`${field} is not valid JSON. ${download}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new InputError(`${field} is not a JSON object. ${download}`);
  }
  const json = parsed as Record<string, unknown>;
  const type = stringField(json, "type");
  if (type !== "service_account") {
    throw new InputError(
      `${field} is ${type ? `a "${type}" file` : "a JSON file without a type"}, not a service account key (type "service_account"). ${download}`,
    );
  }
  const clientEmail = stringField(json, "client_email");
  if (!clientEmail || !clientEmail.includes("@")) {
    throw new InputError(
      `${field} has no client_email (the service account's address). ${download}`,
    );
  }
  const pem = stringField(json, "private_key");
  if (!pem) throw new InputError(`${field} has no private_key. ${download}`);
  const key = rsaKey(pem, `${field}'s private_key`, download);
  const tokenUriText = stringField(json, "token_uri");
  if (!tokenUriText) throw new InputError(`${field} has no token_uri. ${download}`);
  let tokenUri: URL;
  try {
    tokenUri = new URL(tokenUriText);
  } catch {
    throw new InputError(`${field}'s token_uri "${tokenUriText}" is not a URL. ${download}`);
  }
  if (!isAllowedTokenUrl(tokenUri)) {
    throw new InputError(
      `${field}'s token_uri "${tokenUriText}" is not an https URL: the signed request would travel unencrypted. Google's is https://oauth2.googleapis.com/token.`,
    );
  }
  return {
    clientEmail,
    clientId: stringField(json, "client_id"),
    keyId: stringField(json, "private_key_id"),
    key,
    privateKeyPem: typeof json.private_key === "string" ? json.private_key : pem,
    tokenUri: tokenUri.toString(),
    // of the public half: the cache may remember it without remembering anything secret
    fingerprint: createHash("sha256")
      .update(createPublicKey(key).export({ type: "spki", format: "der" }))
      .digest("hex"),
  };
}
