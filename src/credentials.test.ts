import { createHash, generateKeyPairSync, X509Certificate } from "node:crypto";
import { testCertificate, testServiceAccount } from "../test/testKeys";
import {
  isAllowedTokenUrl,
  parseCertificateCredential,
  parseServiceAccountKey,
} from "./credentials";
import { InputError } from "./errors";

function inputError(work: () => unknown): string {
  try {
    work();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return (err as Error).message;
  }
  throw new Error("expected an InputError");
}

const certificate = testCertificate();
const other = testCertificate();
const TOKEN_URI = "https://oauth2.googleapis.com/token";
const account = testServiceAccount(TOKEN_URI);

describe("parseCertificateCredential", () => {
  test("reads the key and the certificate and gives the certificate's x5t thumbprint", () => {
    const credential = parseCertificateCredential(certificate.pem);
    const x509 = new X509Certificate(certificate.certificatePem);
    expect(credential.thumbprint).toBe(createHash("sha1").update(x509.raw).digest("base64url"));
    // the same thumbprint Azure shows, as hex
    expect(Buffer.from(credential.thumbprint, "base64url").toString("hex").toUpperCase()).toBe(
      x509.fingerprint.replace(/:/g, ""),
    );
    expect(credential.key.asymmetricKeyType).toBe("rsa");
    expect(credential.validTo).toBe(new Date(x509.validTo).toISOString());
  });

  test("takes the certificate first and the key second, and picks the certificate of the key among others", () => {
    const pem = `${other.certificatePem}\n${certificate.certificatePem}\n${certificate.privateKeyPem}`;
    const credential = parseCertificateCredential(pem);
    expect(credential.fingerprint).toBe(
      createHash("sha256")
        .update(new X509Certificate(certificate.certificatePem).raw)
        .digest("hex"),
    );
  });

  test.each([
    ["an empty field", "", "The connection's Certificate is empty."],
    [
      "only a certificate",
      certificate.certificatePem,
      "The connection's Certificate has no private key.",
    ],
    ["only a key", certificate.privateKeyPem, "The connection's Certificate has no certificate."],
  ])("%s is refused with what to paste", (_name, pem, start) => {
    const message = inputError(() => parseCertificateCredential(pem));
    expect(message).toBe(
      `${start} Paste the private key (-----BEGIN PRIVATE KEY-----, unencrypted) followed by its certificate (-----BEGIN CERTIFICATE-----), for example the output of: openssl pkcs12 -in app.pfx -nodes`,
    );
  });

  test("a key that does not belong to the certificate is refused", () => {
    expect(
      inputError(() =>
        parseCertificateCredential(`${certificate.privateKeyPem}\n${other.certificatePem}`),
      ),
    ).toBe(
      "The connection's Certificate: the private key does not belong to its certificate. Paste the key and the certificate that were created together.",
    );
  });

  test("a password-protected key is refused with how to remove the password", () => {
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 1024 });
    const encrypted = privateKey.export({
      type: "pkcs8",
      format: "pem",
      cipher: "aes-256-cbc",
      passphrase: "pw",
    }) as string;
    expect(
      inputError(() => parseCertificateCredential(`${encrypted}\n${certificate.certificatePem}`)),
    ).toBe(
      "The connection's Certificate holds a password-protected private key, which cannot be used unattended. Export it without a password (openssl pkey -in key.pem -out plain.pem) and paste that.",
    );
  });

  test("an expired certificate is refused with its date", () => {
    const later = new Date(Date.now() + 40 * 86_400_000);
    const validTo = new Date(new X509Certificate(certificate.certificatePem).validTo).toISOString();
    expect(inputError(() => parseCertificateCredential(certificate.pem, later))).toBe(
      `The connection's Certificate expired on ${validTo} (subject CN=IMAP component test app). Create a new certificate, upload its public part under the app registration's Certificates & secrets, and paste the new key and certificate here.`,
    );
  });

  test("a broken key is refused without quoting it", () => {
    const broken = certificate.privateKeyPem.replace(/\n[A-Za-z0-9+/]{20}/, "\n!!!!");
    const message = inputError(() =>
      parseCertificateCredential(`${broken}\n${certificate.certificatePem}`),
    );
    expect(message).toMatch(/^The connection's Certificate could not be read as a private key\./);
    expect(message).not.toContain("MII");
  });
});

describe("parseServiceAccountKey", () => {
  test("reads the key file", () => {
    const credential = parseServiceAccountKey(account.json);
    expect(credential).toMatchObject({
      clientEmail: account.clientEmail,
      clientId: account.clientId,
      keyId: account.keyId,
      tokenUri: TOKEN_URI,
      privateKeyPem: account.privateKeyPem,
    });
    expect(credential.fingerprint).toMatch(/^[0-9a-f]{64}$/);
  });

  const download =
    "In the Google Cloud console open IAM & Admin > Service Accounts > the account > Keys > Add key > Create new key > JSON, and paste the whole file.";
  const edited = (change: (json: Record<string, unknown>) => void): string => {
    const json = JSON.parse(account.json) as Record<string, unknown>;
    change(json);
    return JSON.stringify(json);
  };

  test.each([
    ["an empty field", "", "The connection's Service Account Key is empty."],
    [
      "text that is not JSON",
      account.json.slice(0, 200),
      "The connection's Service Account Key is not valid JSON.",
    ],
    [
      "an OAuth client file",
      JSON.stringify({ type: "authorized_user", client_id: "x" }),
      'The connection\'s Service Account Key is a "authorized_user" file, not a service account key (type "service_account").',
    ],
    [
      "a file without client_email",
      edited((json) => delete json.client_email),
      "The connection's Service Account Key has no client_email (the service account's address).",
    ],
    [
      "a file without private_key",
      edited((json) => delete json.private_key),
      "The connection's Service Account Key has no private_key.",
    ],
    [
      "a file without token_uri",
      edited((json) => delete json.token_uri),
      "The connection's Service Account Key has no token_uri.",
    ],
  ])("%s is refused with how to get the key file", (_name, json, start) => {
    const message = inputError(() => parseServiceAccountKey(json));
    expect(message).toBe(`${start} ${download}`);
    expect(message).not.toContain("PRIVATE KEY");
  });

  test("a token_uri in cleartext is refused: the signed grant would travel unencrypted", () => {
    expect(
      inputError(() =>
        parseServiceAccountKey(
          edited((json) => {
            json.token_uri = "http://oauth2.example.com/token";
          }),
        ),
      ),
    ).toBe(
      "The connection's Service Account Key's token_uri \"http://oauth2.example.com/token\" is not an https URL: the signed request would travel unencrypted. Google's is https://oauth2.googleapis.com/token.",
    );
  });
});

describe("isAllowedTokenUrl", () => {
  test.each([
    ["https://login.microsoftonline.com/x/oauth2/v2.0/token", true],
    ["http://127.0.0.1:8080/token", true],
    ["http://localhost/token", true],
    ["http://[::1]:99/token", true],
    ["http://login.microsoftonline.com/token", false],
    ["http://127.0.0.1.example.com/token", false],
    ["ftp://127.0.0.1/token", false],
  ])("%s: %s", (url, allowed) => {
    expect(isAllowedTokenUrl(new URL(url))).toBe(allowed);
  });
});
