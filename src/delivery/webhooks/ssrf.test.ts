import { describe, expect, it } from "vitest";
import { isAppError } from "../../errors.ts";
import { checkDestination, classifyAddress, pinnedLookup, type Resolve } from "./ssrf.ts";

const resolver =
  (answers: Record<string, string[]>): Resolve =>
  async (host) => {
    const found = answers[host];
    if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
    return found.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };

async function refusal(url: string, options: { allowPrivate?: boolean; resolve?: Resolve } = {}) {
  try {
    await checkDestination(url, { allowPrivate: options.allowPrivate ?? false, resolve: options.resolve });
  } catch (err) {
    if (isAppError(err)) return err;
    throw err;
  }
  return undefined;
}

describe("classifyAddress", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.255.0.9", "loopback"],
    ["::1", "loopback"],
    ["10.0.0.5", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["fc00::1", "private"],
    ["fd12:3456::1", "private"],
    ["169.254.1.1", "link-local"],
    ["169.254.169.254", "link-local"],
    ["fe80::1", "link-local"],
    ["fe80::1%eth0", "link-local"],
    ["100.64.0.1", "carrier-grade NAT"],
    ["100.127.255.254", "carrier-grade NAT"],
    ["0.0.0.0", "unspecified"],
    ["::", "unspecified"],
    ["224.0.0.1", "multicast"],
    ["ff02::1", "multicast"],
    ["255.255.255.255", "reserved"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["0:0:0:0:0:ffff:10.0.0.5", "private"],
    ["::ffff:a9fe:a9fe", "link-local"],
    ["::7f00:1", "loopback"],
    ["64:ff9b::a00:5", "private"],
    ["2002:c0a8:0101::1", "private"],
  ])("refuses %s as %s", (address, kind) => {
    expect(classifyAddress(address)?.kind).toBe(kind);
  });

  it.each([
    "93.184.216.34",
    "8.8.8.8",
    "172.32.0.1",
    "100.128.0.1",
    "169.253.255.255",
    "2606:4700:4700::1111",
    "::ffff:8.8.8.8",
    "2002:0808:0808::1",
  ])("lets the public address %s through", (address) => {
    expect(classifyAddress(address)).toBeUndefined();
  });

  it("never lets an admin allow the metadata address, unspecified or multicast", () => {
    expect(classifyAddress("169.254.169.254")?.allowable).toBe(false);
    expect(classifyAddress("::ffff:169.254.169.254")?.allowable).toBe(false);
    expect(classifyAddress("fd00:ec2::254")).toMatchObject({
      allowable: false,
      description: "the cloud metadata address",
    });
    expect(classifyAddress("0.0.0.0")?.allowable).toBe(false);
    expect(classifyAddress("ff02::1")?.allowable).toBe(false);
    expect(classifyAddress("10.0.0.5")?.allowable).toBe(true);
    expect(classifyAddress("127.0.0.1")?.allowable).toBe(true);
  });
});

describe("checkDestination", () => {
  it.each([
    "http://127.0.0.1/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://127.1/",
    "http://0177.0.0.1/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::1]:8080/",
    "http://10.0.0.5/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://0/",
  ])("refuses the IP literal %s without asking DNS", async (url) => {
    const err = await refusal(url, {
      resolve: async () => {
        throw new Error("DNS must not be asked for an IP literal");
      },
    });
    expect(err?.code).toBe("webhooks.url_forbidden");
    expect(err?.message).toMatch(/internal addresses/);
  });

  it("explains how an admin can allow a private host", async () => {
    const err = await refusal("https://hooks.corp.example/in", {
      resolve: resolver({ "hooks.corp.example": ["10.1.2.3"] }),
    });
    expect(err?.code).toBe("webhooks.url_forbidden");
    expect(err?.message).toContain("hooks.corp.example resolves to 10.1.2.3, a private address");
    expect(err?.message).toContain('"allowPrivate": true');
    expect(err?.details).toMatchObject({ host: "hooks.corp.example", reason: "private" });
  });

  it("refuses a host when any one of its addresses is internal", async () => {
    const err = await refusal("https://mixed.example/", {
      resolve: resolver({ "mixed.example": ["93.184.216.34", "127.0.0.1"] }),
    });
    expect(err?.code).toBe("webhooks.url_forbidden");
  });

  it("refuses an IPv4-mapped IPv6 answer from DNS", async () => {
    const err = await refusal("https://sneaky.example/", {
      resolve: resolver({ "sneaky.example": ["::ffff:192.168.0.10"] }),
    });
    expect(err?.code).toBe("webhooks.url_forbidden");
  });

  it("refuses the metadata address even when private addresses are allowed", async () => {
    const err = await refusal("http://169.254.169.254/", { allowPrivate: true });
    expect(err?.code).toBe("webhooks.url_forbidden");
    expect(err?.message).toMatch(/cannot be allowed/);
  });

  it("allows a private host when allowPrivate is set, pinned to the address it checked", async () => {
    const d = await checkDestination("http://hooks.corp.example:8080/in", {
      allowPrivate: true,
      resolve: resolver({ "hooks.corp.example": ["10.1.2.3"] }),
    });
    expect(d).toMatchObject({ address: "10.1.2.3", family: 4 });
    expect(d.url.host).toBe("hooks.corp.example:8080");
  });

  it("refuses a host that resolved publicly before and privately now", async () => {
    let answer = "93.184.216.34";
    const flipping: Resolve = async () => [{ address: answer, family: 4 }];
    const saved = await checkDestination("https://rebind.example/", {
      allowPrivate: false,
      resolve: flipping,
    });
    expect(saved.address).toBe("93.184.216.34");
    answer = "127.0.0.1";
    const err = await refusal("https://rebind.example/", { resolve: flipping });
    expect(err?.code).toBe("webhooks.url_forbidden");
    expect(err?.message).toContain("rebind.example resolves to 127.0.0.1, a loopback address");
  });

  it.each([
    ["ftp://files.example/hook", /must use https/],
    ["file:///etc/passwd", /must use https/],
    ["javascript:alert(1)", /must use https/],
    ["https://user:pass@hooks.example/", /user name or password/],
    ["https://user@hooks.example/", /user name or password/],
    ["not a url", /is not a URL/],
  ])("refuses %s as an invalid URL", async (url, message) => {
    const err = await refusal(url, { resolve: resolver({ "hooks.example": ["93.184.216.34"] }) });
    expect(err?.code).toBe("webhooks.invalid_url");
    expect(err?.message).toMatch(message);
  });

  it("says when a host does not resolve", async () => {
    const err = await refusal("https://nowhere.invalid/", { resolve: resolver({}) });
    expect(err?.code).toBe("webhooks.unresolvable_host");
    expect(err?.message).toContain("ENOTFOUND");
  });

  it("refuses localhost through the system resolver", async () => {
    const err = await refusal("http://localhost:3000/hook");
    expect(err?.code).toBe("webhooks.url_forbidden");
  });
});

describe("pinnedLookup", () => {
  it("answers the checked address whatever the socket asks", () => {
    const lookup = pinnedLookup({ url: new URL("https://x.example/"), address: "93.184.216.34", family: 4 });
    const single: unknown[] = [];
    lookup("x.example", {}, (...args) => single.push(...args));
    expect(single).toEqual([null, "93.184.216.34", 4]);
    const all: unknown[] = [];
    lookup("x.example", { all: true }, (...args) => all.push(...args));
    expect(all).toEqual([null, [{ address: "93.184.216.34", family: 4 }]]);
  });
});
