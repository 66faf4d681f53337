// The one door to the backend: generated command bindings, unwrapped into promises that throw a
// typed `CommandError` (branch on `error.code`, never on the message).
import type { ApiError } from "../bindings";

export type Result<T, E> = { status: "ok"; data: T } | { status: "error"; error: E };

export class CommandError extends Error {
  readonly code: string;
  readonly details: ApiError["details"];
  readonly api: ApiError;
  constructor(api: ApiError) {
    super(api.message);
    this.name = "CommandError";
    this.code = api.code;
    this.details = api.details;
    this.api = api;
  }
}

/** Unwraps a command result; framework failures (a string or an Error) become `internal`. */
export async function call<T>(result: Promise<Result<T, ApiError>>): Promise<T> {
  let r: Result<T, ApiError>;
  try {
    r = await result;
  } catch (e) {
    throw new CommandError({ code: "internal", message: String(e), details: {} });
  }
  if (r.status === "ok") return r.data;
  throw new CommandError(r.error);
}

export function errorCode(e: unknown): string | null {
  return e instanceof CommandError ? e.code : null;
}

/** Field → reason, from a `validation` error's `details.errors`. */
export function fieldErrors(e: unknown): Record<string, string> {
  if (!(e instanceof CommandError) || e.code !== "validation") return {};
  const out: Record<string, string> = {};
  const details = e.details as { errors?: { field: string; reason: string }[] } | null;
  for (const err of details?.errors ?? []) out[err.field] ??= err.reason;
  return out;
}

export function describeError(e: unknown): string {
  if (e instanceof CommandError) return e.message;
  return e instanceof Error ? e.message : String(e);
}
