import { promises as dns, type LookupAddress } from "node:dns";
import { isIP, type LookupFunction } from "node:net";
import { AppError } from "../../errors.ts";

// Webhook URLs are typed by tenants, and Rapport's worker sits inside the operator's network:
// without this guard a tenant could make the worker POST to the cloud metadata service or an
// internal admin API (SSRF). Every address a host resolves to is checked, at save time and
// again at every send, and the connection is pinned to the address that was checked, so a
// DNS answer that changes between the check and the connect (rebinding) cannot slip through.

export type ResolvedAddress = { address: string; family: 4 | 6 };
/** Resolves a host name to all its addresses; injectable so tests control DNS. */
export type Resolve = (host: string) => Promise<ResolvedAddress[]>;

/** The system resolver (`dns.lookup`, which also reads /etc/hosts), every address it knows. */
export const systemResolve: Resolve = async (host) => {
  const found = await dns.lookup(host, { all: true, verbatim: true });
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

/** A checked destination: the URL to POST to and the one address the connection must use. */
export type Destination = { url: URL; address: string; family: 4 | 6 };

type Kind =
  | "loopback"
  | "private"
  | "link-local"
  | "carrier-grade NAT"
  | "unspecified"
  | "multicast"
  | "reserved";
type Range = { base: bigint; bits: number; kind: Kind };

// kinds an admin may allow for an on-premises receiver; the others are never a receiver
const ALLOWABLE: ReadonlySet<Kind> = new Set([
  "loopback",
  "private",
  "link-local",
  "carrier-grade NAT",
  "reserved",
]);
const METADATA_V4 = "169.254.169.254";
// AWS's instance metadata service over IPv6; inside fc00::/7, but never a receiver
const METADATA_V6 = 0xfd000ec2000000000000000000000254n;

function v4(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = (n << 8n) | BigInt(p);
  }
  return n;
}

function v6(text: string): bigint | undefined {
  let s = text.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  // a dotted IPv4 tail (`::ffff:127.0.0.1`) becomes two hex groups
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (tail?.[1]) {
    const n = v4(tail[1]);
    if (n === undefined) return undefined;
    s = `${s.slice(0, tail.index)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(":") : [];
  const rest = halves[1] ? halves[1].split(":") : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...rest];
  let n = 0n;
  for (const g of groups) {
    if (!/^[0-9a-f]{1,4}$/i.test(g)) return undefined;
    n = (n << 16n) | BigInt(`0x${g}`);
  }
  return n;
}

function range(cidr: string, kind: Kind): Range {
  const [ip = "", bits = ""] = cidr.split("/");
  const base = ip.includes(":") ? v6(ip) : v4(ip);
  if (base === undefined) throw new Error(`bad range ${cidr}`);
  return { base, bits: Number(bits), kind };
}

const V4_RANGES: Range[] = [
  range("0.0.0.0/8", "unspecified"),
  range("10.0.0.0/8", "private"),
  range("100.64.0.0/10", "carrier-grade NAT"),
  range("127.0.0.0/8", "loopback"),
  range("169.254.0.0/16", "link-local"),
  range("172.16.0.0/12", "private"),
  range("192.0.0.0/24", "reserved"),
  range("192.0.2.0/24", "reserved"),
  range("192.168.0.0/16", "private"),
  range("198.18.0.0/15", "reserved"),
  range("198.51.100.0/24", "reserved"),
  range("203.0.113.0/24", "reserved"),
  range("224.0.0.0/4", "multicast"),
  range("240.0.0.0/4", "reserved"),
];

const V6_RANGES: Range[] = [
  range("::/128", "unspecified"),
  range("::1/128", "loopback"),
  range("100::/64", "reserved"),
  range("2001:db8::/32", "reserved"),
  range("fc00::/7", "private"),
  range("fe80::/10", "link-local"),
  range("fec0::/10", "private"),
  range("ff00::/8", "multicast"),
];

// IPv6 forms that carry an IPv4 address, which is what the packet reaches in the end
const EMBEDDING: Array<{ range: Range; name: string; shift: bigint }> = [
  { range: range("::ffff:0:0/96", "reserved"), name: "an IPv4-mapped IPv6 form", shift: 0n },
  { range: range("::/96", "reserved"), name: "an IPv4-compatible IPv6 form", shift: 0n },
  { range: range("64:ff9b::/96", "reserved"), name: "a NAT64 form", shift: 0n },
  { range: range("64:ff9b:1::/48", "reserved"), name: "a local NAT64 form", shift: 0n },
  { range: range("2002::/16", "reserved"), name: "a 6to4 form", shift: 80n },
];

function within(n: bigint, r: Range, width: number): boolean {
  const shift = BigInt(width - r.bits);
  return n >> shift === r.base >> shift;
}

function aKind(kind: Kind): string {
  return `${/^[aeiou]/.test(kind) ? "an" : "a"} ${kind} address`;
}

function v4Text(n: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => ((n >> s) & 0xffn).toString()).join(".");
}

/** Why an address must not be reached: its kind, a phrase for messages, whether an admin may allow it. */
export type Refusal = { kind: Kind; description: string; allowable: boolean };

/**
 * Classifies one IP address (v4 or v6 text, as `dns.lookup` or a URL gives it): undefined for
 * a public address, else why it is refused and whether an admin may allow it.
 */
export function classifyAddress(address: string): Refusal | undefined {
  const a4 = v4(address);
  if (a4 !== undefined) {
    const hit = V4_RANGES.find((r) => within(a4, r, 32));
    if (!hit) return undefined;
    if (address === METADATA_V4)
      return { kind: hit.kind, description: "the cloud metadata address", allowable: false };
    return { kind: hit.kind, description: aKind(hit.kind), allowable: ALLOWABLE.has(hit.kind) };
  }
  const a6 = v6(address);
  if (a6 === undefined) return { kind: "reserved", description: "not an IP address", allowable: false };
  if (a6 === METADATA_V6)
    return { kind: "private", description: "the cloud metadata address", allowable: false };
  const hit = V6_RANGES.find((r) => within(a6, r, 128));
  if (hit) return { kind: hit.kind, description: aKind(hit.kind), allowable: ALLOWABLE.has(hit.kind) };
  for (const e of EMBEDDING) {
    if (!within(a6, e.range, 128)) continue;
    const inner = v4Text((a6 >> e.shift) & 0xffffffffn);
    const refusal = classifyAddress(inner);
    if (refusal) return { ...refusal, description: `${e.name} of ${inner}, ${refusal.description}` };
  }
  return undefined;
}

/**
 * Parses a webhook URL: http(s) only, no credentials. Node's URL parser already writes IPv4
 * literals in any notation (`2130706433`, `0x7f.1`, `127.1`) as dotted quads.
 */
export function parseWebhookUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AppError("webhooks.invalid_url", `"${raw}" is not a URL; give an absolute https:// URL.`, {
      url: raw,
    });
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new AppError(
      "webhooks.invalid_url",
      `Webhook URLs must use https: (or http:), not ${url.protocol}.`,
      { url: raw },
    );
  }
  if (url.username || url.password) {
    throw new AppError(
      "webhooks.invalid_url",
      "Webhook URLs must not contain a user name or password: deliveries are authenticated by their signature; " +
        "verify it with the endpoint's secret instead.",
      { url: raw },
    );
  }
  if (!url.hostname) throw new AppError("webhooks.invalid_url", "The URL has no host.", { url: raw });
  return url;
}

function forbidden(url: URL, address: string, refusal: Refusal, resolvedFrom: string | undefined): AppError {
  const what = resolvedFrom
    ? `${resolvedFrom} resolves to ${address}, ${refusal.description}`
    : `${address} is ${refusal.description}`;
  const fix = refusal.allowable
    ? "Use a public URL, or, for a receiver inside your own network, have an owner or admin set " +
      '"allowPrivate": true on this endpoint to allow its host explicitly.'
    : "Use a public URL; this kind of address cannot be allowed.";
  return new AppError(
    "webhooks.url_forbidden",
    `Rapport does not send webhooks to internal addresses: ${what}. ${fix}`,
    { url: url.toString(), host: url.hostname, reason: refusal.kind },
  );
}

/**
 * Checks a webhook URL and resolves its host: refuses it if any address is loopback, private,
 * link-local, CGNAT, unspecified, multicast or reserved (unless `allowPrivate` allows it).
 * Returns the destination pinned to the first checked address.
 */
export async function checkDestination(
  raw: string,
  options: { allowPrivate: boolean; resolve?: Resolve },
): Promise<Destination> {
  const url = parseWebhookUrl(raw);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const literal = isIP(host);
  let addresses: ResolvedAddress[];
  if (literal === 4 || literal === 6) {
    addresses = [{ address: host, family: literal }];
  } else {
    try {
      addresses = await (options.resolve ?? systemResolve)(host);
    } catch (err) {
      const code = err instanceof Error && "code" in err ? String(err.code) : "no answer";
      throw new AppError(
        "webhooks.unresolvable_host",
        `The host ${host} could not be resolved (${code}); check its spelling and its DNS records.`,
        { host },
      );
    }
    if (addresses.length === 0) {
      throw new AppError("webhooks.unresolvable_host", `The host ${host} has no address.`, { host });
    }
  }
  for (const a of addresses) {
    const refusal = classifyAddress(a.address);
    if (refusal && !(options.allowPrivate && refusal.allowable)) {
      throw forbidden(url, a.address, refusal, literal ? undefined : host);
    }
  }
  const first = addresses[0];
  if (!first) throw new Error("unreachable: addresses is not empty");
  return { url, address: first.address, family: first.family };
}

/**
 * A `lookup` for http(s).request that answers the checked address only, so the socket goes
 * where the guard looked and a second DNS answer is never asked for.
 */
export function pinnedLookup(destination: Destination): LookupFunction {
  const pinned: LookupAddress = { address: destination.address, family: destination.family };
  return (_hostname, options, callback) => {
    // Node asks for every address when it races IPv4 and IPv6 (autoSelectFamily)
    if (options.all) callback(null, [pinned]);
    else callback(null, pinned.address, pinned.family);
  };
}
