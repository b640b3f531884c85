import { isBrokerError } from '../../errors/broker-error.js';

/** The named steps of a login's callback; test-login diagnostics list them by these ids. */
export type StepId =
  | 'connection'
  | 'discovery'
  | 'response_issuer'
  | 'authorization'
  | 'token_exchange'
  | 'acr'
  | 'freshness'
  | 'userinfo'
  | 'claims'
  | 'domain';

/** The step each error failed at (the login audit records it); the innermost step names it. */
const failedSteps = new WeakMap<object, StepId>();

/** The step `error` failed at, when a step runner threw it. */
export function failedStep(error: unknown): StepId | undefined {
  return typeof error === 'object' && error !== null ? failedSteps.get(error) : undefined;
}

/** Hears each step's outcome (test logins); real logins pass none. */
export type Trace = (step: { id: StepId; ok: boolean; message: string }) => void;

/**
 * The one runner of pipeline steps: runs a step, tells `trace` how it went (its description on
 * success, the error's code and reason on failure) and passes the value or the error on.
 * Descriptions are built only when there is a trace: real logins do not pay for them.
 */
export function stepRunner(trace: Trace | undefined) {
  return async function step<T>(id: StepId, run: () => Promise<T> | T, describe: (value: T) => string): Promise<T> {
    try {
      const value = await run();
      trace?.({ id, ok: true, message: describe(value) });
      return value;
    } catch (error) {
      if (typeof error === 'object' && error !== null && !failedSteps.has(error)) failedSteps.set(error, id);
      trace?.({ id, ok: false, message: isBrokerError(error) ? `${error.code}: ${error.message}` : String(error) });
      throw error;
    }
  };
}
