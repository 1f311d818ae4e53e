import { createHmac } from "node:crypto";
import fastifySwagger from "@fastify/swagger";
import Fastify from "fastify";
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from "fastify-type-provider-zod";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createInbox } from "../src/conversations/inboxes.ts";
import { xInboundRoutes } from "../src/http/routes/x-inbound.ts";
import { createTestWorkspace } from "./support/factories.ts";
import { signLikeX } from "./support/fake-x.ts";
import {
  conversationsOf,
  customerCount,
  db,
  messagesOf,
  path,
  post,
  postSigned,
  raw,
  SECRET,
  withXApp,
  xInbox,
} from "./support/x-webhook.ts";

const getApp = withXApp();

describe("X Challenge-Response Check", () => {
  it("is documented, CRC and events on one path, in the OpenAPI description", async () => {
    // the routes alone, so the check does not depend on every other module's documentation
    const docs = Fastify();
    docs.setValidatorCompiler(validatorCompiler);
    docs.setSerializerCompiler(serializerCompiler);
    await docs.register(fastifySwagger, {
      openapi: { openapi: "3.1.0", info: { title: "x", version: "1" } },
      transform: jsonSchemaTransform,
    });
    await docs.withTypeProvider<ZodTypeProvider>().register(xInboundRoutes);
    await docs.ready();
    const spec = z
      .object({ paths: z.record(z.string(), z.record(z.string(), z.object({ summary: z.string() }))) })
      .parse(docs.swagger());
    const route = spec.paths["/webhooks/x/{workspaceId}/inbox/{inboxId}"];
    expect(route?.get?.summary).toBe("X Challenge-Response Check");
    expect(route?.post?.summary).toBe("X Account Activity events");
    await docs.close();
  });

  it("answers sha256= and the base64 HMAC of crc_token keyed by the consumer secret", async () => {
    const t = await createTestWorkspace();
    const inbox = await xInbox(t);
    const token = "9b4507b3-9040-4669-9ca3-6b94edb50553";
    const res = await getApp().inject({ method: "GET", url: path(t, inbox, `?crc_token=${token}`) });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    const expected = createHmac("sha256", SECRET).update(token).digest("base64");
    expect(res.json()).toEqual({ response_token: `sha256=${expected}` });
  });

  it("refuses a request without a token, an inbox without a secret, and an inbox of another kind", async () => {
    const t = await createTestWorkspace();
    const inbox = await xInbox(t);
    const noToken = await getApp().inject({ method: "GET", url: path(t, inbox) });
    expect(noToken.statusCode).toBe(400);
    expect(noToken.json().error.code).toBe("x.invalid_crc");
    expect(noToken.json().error.message).toMatch(/crc_token is missing/);

    const bare = await createInbox(await db(), t.workspace.id, { kind: "x", name: "Not connected yet" });
    const noSecret = await getApp().inject({ method: "GET", url: path(t, bare, "?crc_token=abc") });
    expect(noSecret.statusCode).toBe(403);
    expect(noSecret.json().error.code).toBe("x.config_forbidden");
    expect(noSecret.json().error.message).toMatch(/consumerSecret/);

    const sms = await createInbox(await db(), t.workspace.id, {
      kind: "sms",
      name: "SMS",
      address: "+33612345678",
    });
    const other = await getApp().inject({ method: "GET", url: path(t, sms, "?crc_token=abc") });
    expect(other.statusCode).toBe(404);
    expect(other.json().error.code).toBe("x.inbox_not_found");

    // another workspace's inbox is not found either
    const stranger = await createTestWorkspace();
    const foreign = await getApp().inject({
      method: "GET",
      url: `/webhooks/x/${stranger.workspace.id}/inbox/${inbox.id}?crc_token=abc`,
    });
    expect(foreign.statusCode).toBe(404);
  });
});

describe("X webhook signature", () => {
  it("refuses a missing, wrong or replayed-onto-another-body signature with 403 and stores nothing", async () => {
    const t = await createTestWorkspace();
    const inbox = await xInbox(t);
    const body = raw("mention");
    const missing = await post(path(t, inbox), body, undefined);
    expect(missing.statusCode).toBe(403);
    expect(missing.json().error.code).toBe("x.signature_forbidden");
    expect(missing.json().error.message).toMatch(/missing/);

    const wrongKey = await post(path(t, inbox), body, signLikeX("another-app-secret", body));
    expect(wrongKey.statusCode).toBe(403);
    expect(wrongKey.json().error.code).toBe("x.signature_forbidden");

    // a signature is for its bytes: the same events re-serialised no longer match
    const reserialised = JSON.stringify(JSON.parse(body));
    const moved = await post(path(t, inbox), reserialised, signLikeX(SECRET, body));
    expect(moved.statusCode).toBe(403);
    // hex instead of base64: the right HMAC in the wrong form
    const hex = `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`;
    expect((await post(path(t, inbox), body, hex)).statusCode).toBe(403);

    const bare = await createInbox(await db(), t.workspace.id, { kind: "x", name: "No secret" });
    const unverifiable = await postSigned(path(t, bare), body);
    expect(unverifiable.statusCode).toBe(403);
    expect(unverifiable.json().error.code).toBe("x.config_forbidden");

    expect(await messagesOf(t.workspace.id)).toHaveLength(0);
    expect(await conversationsOf(t.workspace.id)).toHaveLength(0);
    expect(await customerCount(t.workspace.id)).toBe(0);
  });

  it("answers 400 naming the problem for a signed body X would never send", async () => {
    const t = await createTestWorkspace();
    const inbox = await xInbox(t);
    const notJson = await postSigned(path(t, inbox), "{ not json");
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json().error.code).toBe("x.invalid_payload");

    const form = await getApp().inject({
      method: "POST",
      url: path(t, inbox),
      headers: { "content-type": "application/x-www-form-urlencoded" },
      payload: "for_user_id=1",
    });
    expect(form.statusCode).toBe(415);
    expect(form.json().error.code).toBe("request.unsupported_media_type");

    const noUser = JSON.stringify({ tweet_create_events: [] });
    const res = await postSigned(path(t, inbox), noUser);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: "x.invalid_payload", details: { field: "for_user_id" } });

    // one bad event refuses the whole post: nothing half-written
    const good = JSON.parse(raw("mention"));
    const bad = { ...good.tweet_create_events[0], id_str: undefined, id: 1 };
    const mixed = JSON.stringify({ ...good, tweet_create_events: [good.tweet_create_events[0], bad] });
    const refused = await postSigned(path(t, inbox), mixed);
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error.details).toEqual({ field: "tweet_create_events.1.id_str" });
    expect(await messagesOf(t.workspace.id)).toHaveLength(0);
  });
});
