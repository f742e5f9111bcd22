import { createPublicKey, verify } from "node:crypto";
import { testCertificate, testServiceAccount } from "../test/testKeys";
import { parseCertificateCredential, parseServiceAccountKey } from "./credentials";
import type { ClientAssertionGrant, JwtBearerGrant } from "./tokens";
import { grantBody, signedJwt } from "./tokens";

const certificate = testCertificate();
const credential = parseCertificateCredential(certificate.pem);
const TOKEN_URL = "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token";
const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);

function decode(jwt: string) {
  const [header, claims, signature] = jwt.split(".");
  return {
    header: JSON.parse(Buffer.from(header ?? "", "base64url").toString("utf8")),
    claims: JSON.parse(Buffer.from(claims ?? "", "base64url").toString("utf8")),
    valid: verify(
      "sha256",
      Buffer.from(`${header}.${claims}`),
      certificate.publicKey,
      Buffer.from(signature ?? "", "base64url"),
    ),
  };
}

describe("signedJwt", () => {
  test("is an RS256 JWS that the public key verifies", () => {
    const jwt = signedJwt({ kid: "k1" }, { a: 1 }, credential.key);
    const decoded = decode(jwt);
    expect(decoded.header).toEqual({ alg: "RS256", typ: "JWT", kid: "k1" });
    expect(decoded.claims).toEqual({ a: 1 });
    expect(decoded.valid).toBe(true);
    // a changed claim no longer verifies
    const [header, , signature] = jwt.split(".");
    const forged = `${header}.${Buffer.from('{"a":2}').toString("base64url")}.${signature}`;
    expect(decode(forged).valid).toBe(false);
  });
});

describe("grantBody", () => {
  test("Microsoft: client credentials with a client assertion carrying the certificate's x5t (RFC 7523)", () => {
    const grant: ClientAssertionGrant = {
      kind: "clientAssertion",
      tokenUrl: TOKEN_URL,
      clientId: "11111111-2222-4333-8444-555555555555",
      subject: "",
      scope: "https://outlook.office365.com/.default",
      key: credential.key,
      fingerprint: credential.fingerprint,
      thumbprint: credential.thumbprint,
    };
    const body = grantBody(grant, NOW);
    expect([...body.keys()]).toEqual([
      "grant_type",
      "client_id",
      "scope",
      "client_assertion_type",
      "client_assertion",
    ]);
    expect(body.get("grant_type")).toBe("client_credentials");
    expect(body.get("client_assertion_type")).toBe(
      "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    );
    const assertion = decode(body.get("client_assertion") ?? "");
    expect(assertion.valid).toBe(true);
    expect(assertion.header).toEqual({ alg: "RS256", typ: "JWT", x5t: credential.thumbprint });
    const now = NOW / 1000;
    expect(assertion.claims).toEqual({
      aud: TOKEN_URL,
      iss: grant.clientId,
      sub: grant.clientId,
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
      nbf: now,
      iat: now,
      exp: now + 600,
    });
    // each assertion is used once
    expect(decode(grantBody(grant, NOW).get("client_assertion") ?? "").claims.jti).not.toBe(
      assertion.claims.jti,
    );
  });

  test("Google: a JWT bearer grant for the user, with the key's kid and the mail scope", () => {
    const account = testServiceAccount("https://oauth2.googleapis.com/token");
    const key = parseServiceAccountKey(account.json);
    const grant: JwtBearerGrant = {
      kind: "jwtBearer",
      tokenUrl: key.tokenUri,
      clientId: key.clientEmail,
      subject: "orders@example.com",
      scope: "https://mail.google.com/",
      key: key.key,
      fingerprint: key.fingerprint,
      keyId: key.keyId,
    };
    const body = grantBody(grant, NOW);
    expect(body.get("grant_type")).toBe("urn:ietf:params:oauth:grant-type:jwt-bearer");
    const [header, claims, signature] = (body.get("assertion") ?? "").split(".");
    expect(
      verify(
        "sha256",
        Buffer.from(`${header}.${claims}`),
        createPublicKey(account.privateKeyPem),
        Buffer.from(signature ?? "", "base64url"),
      ),
    ).toBe(true);
    expect(JSON.parse(Buffer.from(header ?? "", "base64url").toString())).toEqual({
      alg: "RS256",
      typ: "JWT",
      kid: account.keyId,
    });
    const now = NOW / 1000;
    expect(JSON.parse(Buffer.from(claims ?? "", "base64url").toString())).toEqual({
      iss: account.clientEmail,
      sub: "orders@example.com",
      scope: "https://mail.google.com/",
      aud: "https://oauth2.googleapis.com/token",
      iat: now,
      exp: now + 3600,
    });
  });
});
