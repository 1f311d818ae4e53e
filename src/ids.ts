import { randomFillSync } from "node:crypto";

let lastMs = 0;
let seq = 0;
// one call into the CSPRNG per 256 ids: randomBytes per id costs more than the rest of the id
const pool = Buffer.alloc(16 * 256);
let poolAt = pool.length;

function random16(): Buffer {
  if (poolAt >= pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const out = Buffer.from(pool.subarray(poolAt, poolAt + 16));
  poolAt += 16;
  return out;
}

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then random bits, so ids made
 * later sort later and B-tree inserts stay at the right edge of the index. Within one
 * millisecond a 12-bit counter keeps ids from one process strictly increasing.
 */
export function uuidv7(now: number = Date.now()): string {
  if (now === lastMs) {
    seq = (seq + 1) & 0xfff;
  } else {
    lastMs = now;
    seq = random16().readUInt16BE(0) & 0x7ff;
  }
  const b = random16();
  b.writeUIntBE(now, 0, 6);
  b[6] = 0x70 | (seq >> 8);
  b[7] = seq & 0xff;
  b[8] = 0x80 | ((b[8] ?? 0) & 0x3f);
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for any well-formed UUID string (any version). */
export function isUuid(value: string): boolean {
  return UUID_RE.test(value);
}
