import { resolve } from "node:path";
import { z } from "zod";

const Env = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default("0.0.0.0"),
  RAPPORT_PUBLIC_URL: z.url().optional(),
  RAPPORT_DATA_DIR: z.string().min(1).default("./.rapport"),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL")
    .optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  RAPPORT_ADMIN_EMAIL: z.email().optional(),
  RAPPORT_ADMIN_PASSWORD: z.string().min(12, "must be at least 12 characters").optional(),
  RAPPORT_WORKSPACE_NAME: z.string().min(1).default("My workspace"),
  RAPPORT_DEFAULT_COUNTRY: z
    .string()
    .regex(/^[A-Z]{2}$/, "must be an ISO 3166 alpha-2 country code such as US or FR")
    .default("US"),
  RAPPORT_AUTH_RATE_LIMIT: z.coerce.number().int().min(1).default(10),
  RAPPORT_TRUST_PROXY: z
    .enum(["true", "false", "1", "0"], { message: "must be true or false" })
    .default("false")
    .transform((v) => v === "true" || v === "1"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  RAPPORT_SMTP_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  RAPPORT_SMTP_HOST: z.string().default("0.0.0.0"),
  RAPPORT_SMTP_TLS_KEY: z.string().min(1).optional(),
  RAPPORT_SMTP_TLS_CERT: z.string().min(1).optional(),
});

export type Config = {
  port: number;
  host: string;
  publicUrl: string;
  dataDir: string;
  databaseUrl: string | undefined;
  poolSize: number;
  adminEmail: string | undefined;
  adminPassword: string | undefined;
  workspaceName: string;
  defaultCountry: string;
  authRateLimit: number;
  /** Believe X-Forwarded-* headers (set when Rapport runs behind a reverse proxy). */
  trustProxy: boolean;
  logLevel: z.infer<typeof Env>["LOG_LEVEL"];
  /** The inbound mail listener: off unless a port is set; STARTTLS with both key and certificate files. */
  smtp:
    | { port: number; host: string; tlsKeyFile: string | undefined; tlsCertFile: string | undefined }
    | undefined;
};

/** Thrown when the environment is invalid; the message names every bad variable. */
export class ConfigError extends Error {}

/** Parses the environment once at boot. A bad variable stops the process with its name. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // an empty variable (FOO=) means unset, as shells and compose files write it
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = Env.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  if ((e.RAPPORT_SMTP_TLS_KEY === undefined) !== (e.RAPPORT_SMTP_TLS_CERT === undefined)) {
    throw new ConfigError(
      "Invalid configuration:\n  RAPPORT_SMTP_TLS_KEY and RAPPORT_SMTP_TLS_CERT: set both (the key and the certificate files) or neither",
    );
  }
  const shownHost = e.HOST === "0.0.0.0" || e.HOST === "::" ? "localhost" : e.HOST;
  return {
    port: e.PORT,
    host: e.HOST,
    publicUrl: (e.RAPPORT_PUBLIC_URL ?? `http://${shownHost}:${e.PORT}`).replace(/\/$/, ""),
    dataDir: resolve(e.RAPPORT_DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    poolSize: e.DATABASE_POOL_SIZE,
    adminEmail: e.RAPPORT_ADMIN_EMAIL,
    adminPassword: e.RAPPORT_ADMIN_PASSWORD,
    workspaceName: e.RAPPORT_WORKSPACE_NAME,
    defaultCountry: e.RAPPORT_DEFAULT_COUNTRY,
    authRateLimit: e.RAPPORT_AUTH_RATE_LIMIT,
    trustProxy: e.RAPPORT_TRUST_PROXY,
    logLevel: e.LOG_LEVEL,
    smtp: e.RAPPORT_SMTP_PORT
      ? {
          port: e.RAPPORT_SMTP_PORT,
          host: e.RAPPORT_SMTP_HOST,
          tlsKeyFile: e.RAPPORT_SMTP_TLS_KEY,
          tlsCertFile: e.RAPPORT_SMTP_TLS_CERT,
        }
      : undefined,
  };
}
