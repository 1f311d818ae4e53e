import { hash, verify } from "@node-rs/argon2";
import { AppError } from "../errors.ts";

/** Shorter passphrases fall to offline guessing too quickly, whatever their character mix. */
export const MIN_PASSWORD_LENGTH = 12;
// beyond this, hashing cost is the attacker's lever rather than the user's security
const MAX_PASSWORD_LENGTH = 256;

// OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane (about 20-40 ms on a server core)
const OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1, outputLen: 32 } as const;

/** Refuses a password that is too short or absurdly long, with `users.weak_password`. */
export function assertStrongPassword(password: string): void {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) {
    throw new AppError(
      "users.weak_password",
      `The password must be at least ${MIN_PASSWORD_LENGTH} characters long; a few unrelated words make a good one.`,
      { field: "password", minLength: MIN_PASSWORD_LENGTH },
    );
  }
  if (length > MAX_PASSWORD_LENGTH) {
    throw new AppError(
      "users.weak_password",
      `The password must be at most ${MAX_PASSWORD_LENGTH} characters long.`,
      {
        field: "password",
        maxLength: MAX_PASSWORD_LENGTH,
      },
    );
  }
}

/** Checks the password policy, then hashes with argon2id (PHC string with its own salt and parameters). */
export async function hashPassword(password: string): Promise<string> {
  assertStrongPassword(password);
  // argon2id is the library's default algorithm; the PHC string records it (`$argon2id$`)
  return hash(password, OPTIONS);
}

/** True when `password` matches the stored hash; a malformed hash counts as no match. */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

let dummyHash: Promise<string> | undefined;

/**
 * Spends the same work as a real check, for sign-ins whose email matched no user, so a
 * wrong password and an unknown email take about as long.
 */
export async function verifyDummyPassword(password: string): Promise<false> {
  dummyHash ??= hash("rapport-dummy-password-for-timing", OPTIONS);
  await verifyPassword(await dummyHash, password);
  return false;
}
