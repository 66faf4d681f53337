// The one door to the backend: generated command bindings, unwrapped into promises that throw a
// typed `CommandError`. The UI branches on `error.api.code`; narrowing on it types `details`
// (a `ConflictReport` for "conflict", `ValidationDetails` for "validation", …). Never on the
// message, which is for people.
import type { ApiError, ErrorCode, FieldError } from "../bindings";

export type Result<T, E> = { status: "ok"; data: T } | { status: "error"; error: E };

/** The `ApiError` variant of one code. */
export type ApiErrorOf<C extends ErrorCode> = Extract<ApiError, { code: C }>;

export class CommandError extends Error {
  readonly api: ApiError;
  constructor(api: ApiError) {
    super(api.message);
    this.name = "CommandError";
    this.api = api;
  }
}

type CodeInfo = {
  /** What the person is told when a feature has nothing more specific to say. */
  title: string;
  /**
   * The command may have been applied without the UI hearing of it (the call did not reach the
   * backend, or its answer was lost): a retry must carry the same op id, so it applies at most
   * once. Every other code means nothing was applied.
   */
  unsure: boolean;
};

/**
 * One entry per code. `satisfies Record<ErrorCode, …>` makes a code added in Rust (the generated
 * `ErrorCode`) fail `tsc` until the UI decides what it says and whether a retry is the same op.
 */
export const ERROR_CODES = {
  not_found: { title: "It no longer exists", unsure: false },
  validation: { title: "Some values were not accepted", unsure: false },
  bad_input: { title: "Stockdesk could not read the request", unsure: false },
  conflict: { title: "Someone else changed it meanwhile", unsure: false },
  insufficient_stock: { title: "Not enough stock", unsure: false },
  reservation_expired: { title: "The hold expired and the stock is gone", unsure: false },
  beyond_allotment: { title: "Offline, this till can sell only what the shop allotted it", unsure: false },
  invalid_state: { title: "It changed meanwhile", unsure: false },
  busy: { title: "The database is busy; try again", unsure: false },
  timeout: { title: "The database did not answer; try again", unsure: true },
  unreachable: { title: "The shop's database cannot be reached; check the network or the server", unsure: false },
  forbidden: { title: "Not allowed for the person signed in; nothing was changed", unsure: false },
  inconsistent: { title: "The stock records are inconsistent (see stockdesk check)", unsure: false },
  storage: { title: "The database failed; try again", unsure: true },
  migration: { title: "The database could not be prepared", unsure: false },
  io: { title: "A file could not be read or written", unsure: false },
  blobs_inconsistent: { title: "Image files are inconsistent (see stockdesk blobs verify)", unsure: false },
  backup: { title: "The backup could not be made or restored", unsure: false },
  internal: { title: "Something went wrong in Stockdesk", unsure: true },
} satisfies Record<ErrorCode, CodeInfo>;

export function isErrorCode(code: string): code is ErrorCode {
  // Own keys only ("toString" is no code); Object.hasOwn needs a newer WebKit than the build targets.
  return Object.prototype.hasOwnProperty.call(ERROR_CODES, code);
}

/**
 * Whether a command's error value is one of ours. The generated wrapper hands on whatever
 * `invoke` rejected with that is not an `Error` — also Tauri's own strings (an argument that did
 * not deserialise, a missing command) — typed as `ApiError`; those must not pass as one.
 */
export function isApiError(e: unknown): e is ApiError {
  return (
    typeof e === "object" &&
    e !== null &&
    "code" in e &&
    typeof e.code === "string" &&
    isErrorCode(e.code) &&
    "message" in e &&
    typeof e.message === "string" &&
    "details" in e &&
    typeof e.details === "object" &&
    e.details !== null
  );
}

/** An `internal` error, for the framework's failures and the UI's own. */
export function internal(message: string): CommandError {
  return new CommandError({ code: "internal", message, details: {} });
}

/** Unwraps a command result; framework failures (a string or an Error) become `internal`. */
export async function call<T>(result: Promise<Result<T, ApiError>>): Promise<T> {
  let r: Result<T, ApiError>;
  try {
    r = await result;
  } catch (e) {
    throw internal(e instanceof Error ? e.message : String(e));
  }
  if (r.status === "ok") return r.data;
  // Typed `ApiError` by the bindings, but checked: see `isApiError`.
  const error: unknown = r.error;
  if (isApiError(error)) throw new CommandError(error);
  throw internal(typeof error === "string" ? error : JSON.stringify(error));
}

/** The error a command failed with, or null for anything else (a bug in the UI, …). */
export function apiError(e: unknown): ApiError | null {
  return e instanceof CommandError ? e.api : null;
}

export function errorCode(e: unknown): ErrorCode | null {
  return apiError(e)?.code ?? null;
}

/** Narrows an error to one code's variant, so its `details` are typed (`errorOf(e, "conflict")?.details`). */
export function errorOf<C extends ErrorCode>(e: unknown, code: C): ApiErrorOf<C> | null {
  const api = apiError(e);
  return api !== null && hasCode(api, code) ? api : null;
}

function hasCode<C extends ErrorCode>(api: ApiError, code: C): api is ApiErrorOf<C> {
  return api.code === code;
}

/** Whether the failed call may have applied its command after all (retry with the same op id). */
export function outcomeUnsure(e: unknown): boolean {
  const api = apiError(e);
  // Anything but a CommandError is the UI's own failure around the call: unknown too.
  return api === null || ERROR_CODES[api.code].unsure;
}

/** Field → reason (the first per field), from a `validation` error's `details.errors`. */
export function fieldErrors(e: unknown): Record<string, string> {
  return byField(errorOf(e, "validation")?.details.errors ?? []);
}

export function byField(errors: FieldError[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const err of errors) out[err.field] ??= err.reason;
  return out;
}

/** The core's message (for people; never branched on). */
export function describeError(e: unknown): string {
  if (e instanceof CommandError) return e.message;
  return e instanceof Error ? e.message : String(e);
}

/** A headline for the error's code, for features with nothing more specific to say. */
export function errorTitle(e: unknown): string {
  return ERROR_CODES[errorCode(e) ?? "internal"].title;
}

/** The code's headline and the core's message, for a banner or a toast's body. */
export function explain(e: unknown): string {
  const title = errorTitle(e);
  const message = describeError(e);
  return message && message !== title ? `${title}: ${message}` : title;
}
