import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.ts";

describe("loadConfig", () => {
  it("has defaults that run the embedded database on port 3000", () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.databaseUrl).toBeUndefined();
    expect(c.publicUrl).toBe("http://localhost:3000");
    expect(c.dataDir.endsWith(".rapport")).toBe(true);
    expect(c.trustProxy).toBe(false);
  });

  it("reads an empty variable as unset", () => {
    expect(loadConfig({ DATABASE_URL: "", PORT: "" }).databaseUrl).toBeUndefined();
  });

  it("names every bad variable and says what it must be", () => {
    let message = "";
    try {
      loadConfig({ DATABASE_URL: "mysql://x", PORT: "http", RAPPORT_DEFAULT_COUNTRY: "France" });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = err instanceof Error ? err.message : "";
    }
    expect(message).toContain("DATABASE_URL: must be a postgres:// or postgresql:// URL");
    expect(message).toContain("PORT");
    expect(message).toContain("RAPPORT_DEFAULT_COUNTRY: must be an ISO 3166 alpha-2 country code");
  });

  it("keeps the inbound mail listener off unless a port is set, and wants TLS files in pairs", () => {
    expect(loadConfig({}).smtp).toBeUndefined();
    expect(loadConfig({ RAPPORT_SMTP_PORT: "0" }).smtp).toBeUndefined();
    expect(loadConfig({ RAPPORT_SMTP_PORT: "2525" }).smtp).toEqual({
      port: 2525,
      host: "0.0.0.0",
      tlsKeyFile: undefined,
      tlsCertFile: undefined,
    });
    expect(() => loadConfig({ RAPPORT_SMTP_PORT: "2525", RAPPORT_SMTP_TLS_KEY: "/k.pem" })).toThrow(
      /RAPPORT_SMTP_TLS_KEY and RAPPORT_SMTP_TLS_CERT: set both/,
    );
  });
});
