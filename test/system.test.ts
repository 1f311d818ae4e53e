import { afterAll, describe, expect, it } from "vitest";
import type { App } from "../src/http/app.ts";
import { testApp } from "./support/factories.ts";

let app: App;
afterAll(async () => app?.close());

describe("system routes", () => {
  it("answers health and serves an OpenAPI 3.1 document", async () => {
    app = await testApp();
    const health = await app.inject({ method: "GET", url: "/health" });
    expect(health.statusCode).toBe(200);
    expect(health.json().status).toBe("ok");
    const spec = await app.inject({ method: "GET", url: "/api/openapi.json" });
    expect(spec.statusCode).toBe(200);
    expect(spec.json().openapi).toBe("3.1.0");
    const docs = await app.inject({ method: "GET", url: "/api/docs" });
    expect([200, 302]).toContain(docs.statusCode);
  });

  it("answers an unknown route with the error format", async () => {
    const res = await app.inject({ method: "GET", url: "/nope?x=1" });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: "route.not_found", message: "No route for GET /nope." } });
  });
});
