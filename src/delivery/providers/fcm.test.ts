import { generateKeyPairSync, verify } from "node:crypto";
import { describe, expect, it } from "vitest";
import { FCM_SCOPE, FcmConfig, serviceAccountJwt } from "./fcm.ts";

const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();

const config = FcmConfig.parse({
  projectId: "demo-app",
  clientEmail: "rapport@demo-app.iam.gserviceaccount.com",
  privateKey: pem,
});

const decode = (part: string | undefined) =>
  JSON.parse(Buffer.from(part ?? "", "base64url").toString("utf8"));

describe("FCM service-account assertion", () => {
  it("is an RS256 JWT for the messaging scope, verifiable with the public key", () => {
    const now = Date.UTC(2026, 0, 1, 12);
    const jwt = serviceAccountJwt(config, now);
    const [h, c, s] = jwt.split(".");
    expect(decode(h)).toEqual({ alg: "RS256", typ: "JWT" });
    expect(decode(c)).toEqual({
      iss: config.clientEmail,
      sub: config.clientEmail,
      scope: FCM_SCOPE,
      aud: "https://oauth2.googleapis.com/token",
      iat: now / 1000,
      exp: now / 1000 + 3600,
    });
    expect(verify("sha256", Buffer.from(`${h}.${c}`), publicKey, Buffer.from(s ?? "", "base64url"))).toBe(
      true,
    );
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey;
    expect(verify("sha256", Buffer.from(`${h}.${c}`), other, Buffer.from(s ?? "", "base64url"))).toBe(false);
  });
});

describe("FCM config", () => {
  it("takes a key pasted with \\n escapes and fills Google's endpoints", () => {
    const escaped = FcmConfig.parse({ ...config, privateKey: pem.replace(/\n/g, "\\n") });
    expect(escaped.privateKey).toBe(pem);
    expect(escaped.baseUrl).toBe("https://fcm.googleapis.com");
    expect(escaped.tokenUrl).toBe("https://oauth2.googleapis.com/token");
  });

  it("refuses a key that is not a private key, and a bad client email", () => {
    const bad = FcmConfig.safeParse({
      ...config,
      privateKey: "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----",
    });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error?.issues)).toContain("PEM private key");
    expect(FcmConfig.safeParse({ ...config, clientEmail: "not-an-email" }).success).toBe(false);
    expect(FcmConfig.safeParse({ ...config, projectId: "" }).success).toBe(false);
  });
});
