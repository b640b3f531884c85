import { z } from 'zod';

/**
 * What an app asks of the sign-in itself (contract v4, step-up and freshness): the
 * authentication context classes it accepts, how recent the sign-in must be, and whether the
 * IdP must ask the user again or let them pick an account. Passed on in the authorization
 * request; checked at the callback (callback/assert-acr.ts, assert-fresh-authentication.ts).
 */
export interface StepUp {
  /** `acr_values`, in the app's order of preference. */
  acrValues?: string[] | undefined;
  /** `max_age`, in seconds. */
  maxAge?: number | undefined;
  prompt?: 'login' | 'select_account' | undefined;
}

/** At most this many `acr_values`, each at most ACR_VALUE_MAX characters (contract). */
export const MAX_ACR_VALUES = 10;
export const ACR_VALUE_MAX = 200;

/** One ACR value: printable ASCII without the space that separates them. */
export const acrValue = z
  .string()
  .min(1)
  .max(ACR_VALUE_MAX)
  .regex(/^[\x21-\x7e]+$/, 'printable characters without spaces');

/**
 * The query parameters, strictly: anything but what the contract allows is a 400, never passed
 * on to an IdP (which might ignore it, and then the check at the callback would refuse a sign-in
 * the app never meant to ask for).
 */
export const stepUpQuery = {
  acr_values: z
    .string()
    .max(MAX_ACR_VALUES * (ACR_VALUE_MAX + 1))
    .transform((value) => value.split(' '))
    .pipe(z.array(acrValue).min(1).max(MAX_ACR_VALUES))
    .optional(),
  // A decimal non-negative integer that is exact in a double; leading zeros are harmless.
  max_age: z
    .string()
    .regex(/^\d{1,15}$/, 'a non-negative integer')
    .transform(Number)
    .optional(),
  prompt: z.enum(['login', 'select_account']).optional(),
};

export function stepUpOf(q: {
  acr_values?: string[] | undefined;
  max_age?: number | undefined;
  prompt?: 'login' | 'select_account' | undefined;
}): StepUp | undefined {
  if (q.acr_values === undefined && q.max_age === undefined && q.prompt === undefined) return undefined;
  return { acrValues: q.acr_values, maxAge: q.max_age, prompt: q.prompt };
}

/** A form's space-separated list (the setup link's and the console's ACR values field); empty: none. */
export function spaceList(value: string): string[] {
  return value.split(/\s+/).filter(Boolean);
}

/** The values an authorization request sends: the app's, then the connection's it lacks. */
export function mergeAcrValues(app: readonly string[] | undefined, connection: readonly string[] | undefined) {
  const merged = [...new Set([...(app ?? []), ...(connection ?? [])])];
  return merged.length === 0 ? undefined : merged;
}
