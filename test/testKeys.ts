/**
 * Keys and certificates made when the tests run (none is committed): an RSA key pair, a
 * certificate for it made by openssl, and a Google-style service account key file.
 */
import { execFileSync } from "node:child_process";
import type { KeyObject } from "node:crypto";
import { createPublicKey, generateKeyPairSync, randomInt } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export interface TestCertificate {
  /** The private key and the certificate, as the imapM365Certificate connection takes them. */
  pem: string;
  certificatePem: string;
  privateKeyPem: string;
  publicKey: KeyObject;
}

export function rsaPrivateKeyPem(bits = 2048): string {
  return generateKeyPairSync("rsa", { modulusLength: bits }).privateKey.export({
    type: "pkcs8",
    format: "pem",
  }) as string;
}

/** A self-signed certificate for `privateKeyPem` (a new RSA key when none is given), valid for `days`. */
export function testCertificate(
  options: { days?: number; privateKeyPem?: string } = {},
): TestCertificate {
  const privateKeyPem = options.privateKeyPem ?? rsaPrivateKeyPem();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "imap-test-cert-"));
  try {
    const keyFile = path.join(dir, "key.pem");
    fs.writeFileSync(keyFile, privateKeyPem, { mode: 0o600 });
    const certificatePem = execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-new",
        "-key",
        keyFile,
        "-subj",
        "/CN=IMAP component test app",
        "-days",
        String(options.days ?? 30),
      ],
      { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
    );
    return {
      pem: `${privateKeyPem.trim()}\n${certificatePem.trim()}\n`,
      certificatePem,
      privateKeyPem,
      publicKey: createPublicKey(privateKeyPem),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export interface TestServiceAccount {
  /** The key file's JSON text. */
  json: string;
  clientEmail: string;
  clientId: string;
  keyId: string;
  privateKeyPem: string;
  publicKey: KeyObject;
}

/** A service account key file shaped like Google's, for the token endpoint at `tokenUri`. */
export function testServiceAccount(tokenUri: string, name = "imap-reader"): TestServiceAccount {
  const privateKeyPem = rsaPrivateKeyPem();
  const clientEmail = `${name}@test-project.iam.gserviceaccount.com`;
  const clientId = `1${Array.from({ length: 20 }, () => randomInt(10)).join("")}`;
  const keyId = Buffer.from(clientEmail).toString("hex").slice(0, 40);
  const json = JSON.stringify(
    {
      type: "service_account",
      project_id: "test-project",
      private_key_id: keyId,
      private_key: privateKeyPem,
      client_email: clientEmail,
      client_id: clientId,
      auth_uri: "https://accounts.google.com/o/oauth2/auth",
      token_uri: tokenUri,
      auth_provider_x509_cert_url: "https://www.googleapis.com/oauth2/v1/certs",
      universe_domain: "googleapis.com",
    },
    null,
    2,
  );
  return {
    json,
    clientEmail,
    clientId,
    keyId,
    privateKeyPem,
    publicKey: createPublicKey(privateKeyPem),
  };
}
