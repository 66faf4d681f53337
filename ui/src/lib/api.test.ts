// Runtime checks of the error helpers, and type checks (`expectTypeOf`, `@ts-expect-error`) that
// `npm run typecheck` enforces: tsc compiles the tests too, so these fail the build if narrowing
// stops typing `details` or an unknown code starts to compile.
import { describe, expect, expectTypeOf, it } from "vitest";
import type { ApiError, ConflictReport, ErrorCode, InsufficientStockDetails, ValidationDetails } from "../bindings";
import { product, report } from "../test/fixtures";
import {
  call,
  CommandError,
  ERROR_CODES,
  errorCode,
  errorOf,
  errorTitle,
  explain,
  fieldErrors,
  isApiError,
  outcomeUnsure,
  type ApiErrorOf,
} from "./api";

const conflict: ApiError = { code: "conflict", message: "changed by someone else since version 3", details: report(product({ version: 5 }), []) };
const validation: ApiError = {
  code: "validation",
  message: "invalid name: too long",
  details: {
    field: "name",
    reason: "too long",
    errors: [
      { field: "name", reason: "too long" },
      { field: "name", reason: "second rule" },
      { field: "variants.v1.sku", reason: "taken" },
    ],
  },
};
const short: ApiError = {
  code: "insufficient_stock",
  message: "only 2 left",
  details: { variant_id: "v1", requested: 3, available: 2 },
};

async function failure(p: Promise<unknown>): Promise<CommandError> {
  const e = await p.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(e instanceof CommandError)) throw new Error(`expected a CommandError, got ${String(e)}`);
  return e;
}

describe("call", () => {
  it("unwraps data and throws the typed error", async () => {
    await expect(call(Promise.resolve({ status: "ok", data: 7 }))).resolves.toBe(7);
    const e = await failure(call(Promise.resolve({ status: "error", error: conflict })));
    expect(e.api).toBe(conflict);
    expect(e.message).toBe(conflict.message);
  });

  it("turns framework failures into internal", async () => {
    expect((await failure(call(Promise.reject(new Error("IPC closed"))))).api).toEqual({
      code: "internal",
      message: "IPC closed",
      details: {},
    });
    // Tauri rejects with a plain string when arguments do not deserialise; the generated wrapper
    // passes it on as the "ApiError".
    const bad: Promise<{ status: "error"; error: ApiError }> = Promise.resolve({ status: "error", error: JSON.parse('"invalid args `kind`"') });
    expect((await failure(call(bad))).api).toEqual({ code: "internal", message: "invalid args `kind`", details: {} });
  });

  it("checks what claims to be an ApiError", () => {
    expect(isApiError(conflict)).toBe(true);
    expect(isApiError({ code: "no_such_code", message: "", details: {} })).toBe(false);
    expect(isApiError({ code: "toString", message: "", details: {} })).toBe(false);
    expect(isApiError({ code: "busy", message: "busy" })).toBe(false);
    expect(isApiError("busy")).toBe(false);
    expect(isApiError(null)).toBe(false);
  });
});

describe("narrowing", () => {
  it("types details by the code", () => {
    const e = new CommandError(conflict);
    const narrowed = errorOf(e, "conflict");
    expectTypeOf(narrowed).toEqualTypeOf<ApiErrorOf<"conflict"> | null>();
    expectTypeOf<ApiErrorOf<"conflict">["details"]>().toEqualTypeOf<ConflictReport>();
    expectTypeOf<ApiErrorOf<"validation">["details"]>().toEqualTypeOf<ValidationDetails>();
    expectTypeOf<ApiErrorOf<"insufficient_stock">["details"]>().toEqualTypeOf<InsufficientStockDetails>();
    expect(narrowed?.details.current_version).toBe(5);

    const s = errorOf(new CommandError(short), "insufficient_stock");
    expect(s?.details.available).toBe(2);
  });

  it("gives null for another code or another error", () => {
    expect(errorOf(new CommandError(conflict), "validation")).toBeNull();
    expect(errorOf(new Error("a bug"), "conflict")).toBeNull();
    expect(errorOf("nope", "conflict")).toBeNull();
    expect(errorCode(new CommandError(short))).toBe("insufficient_stock");
    expect(errorCode(new Error("a bug"))).toBeNull();
  });

  it("narrows on error.api.code in a switch", () => {
    const api: ApiError = validation;
    switch (api.code) {
      case "validation":
        expectTypeOf(api.details).toEqualTypeOf<ValidationDetails>();
        expect(api.details.errors).toHaveLength(3);
        break;
      default:
        throw new Error("not narrowed");
    }
  });

  it("does not compile a code the core does not have", () => {
    const api: ApiError = conflict;
    // @ts-expect-error "no_such_code" is no ErrorCode: tsc rejects the comparison
    expect(api.code === "no_such_code").toBe(false);
    // @ts-expect-error nor can errorOf narrow to it
    expect(errorOf(new CommandError(api), "no_such_code")).toBeNull();
  });

  it("has one entry per code", () => {
    expectTypeOf<keyof typeof ERROR_CODES>().toEqualTypeOf<ErrorCode>();
    for (const info of Object.values(ERROR_CODES)) expect(info.title).not.toBe("");
  });
});

describe("fieldErrors", () => {
  it("maps each field to its first reason", () => {
    expect(fieldErrors(new CommandError(validation))).toEqual({ name: "too long", "variants.v1.sku": "taken" });
  });
  it("is empty for other errors", () => {
    expect(fieldErrors(new CommandError(conflict))).toEqual({});
    expect(fieldErrors(new Error("x"))).toEqual({});
  });
});

describe("outcomeUnsure", () => {
  const e = (code: "internal" | "timeout" | "storage" | "busy"): CommandError => new CommandError({ code, message: code, details: {} });
  it("is true when the command may have been applied unheard", () => {
    expect(outcomeUnsure(e("internal"))).toBe(true);
    expect(outcomeUnsure(e("timeout"))).toBe(true);
    expect(outcomeUnsure(e("storage"))).toBe(true);
    expect(outcomeUnsure(new Error("the UI failed around the call"))).toBe(true);
  });
  it("is false when the core refused it", () => {
    expect(outcomeUnsure(e("busy"))).toBe(false);
    expect(outcomeUnsure(new CommandError(conflict))).toBe(false);
    expect(outcomeUnsure(new CommandError(validation))).toBe(false);
  });
});

describe("texts", () => {
  it("headline per code, with the core's message", () => {
    expect(errorTitle(new CommandError(short))).toBe("Not enough stock");
    expect(errorTitle(new Error("bug"))).toBe(ERROR_CODES.internal.title);
    expect(explain(new CommandError(short))).toBe("Not enough stock: only 2 left");
  });
});
