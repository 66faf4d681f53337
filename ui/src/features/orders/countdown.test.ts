import { describe, expect, it } from "vitest";
import { countdown } from "./countdown";

describe("countdown", () => {
  const at = Date.parse("2026-11-23T10:00:00Z");
  it("counts minutes and seconds, then hours", () => {
    expect(countdown("2026-11-23T10:14:32Z", at)).toEqual({ text: "14:32", urgent: false, over: false });
    expect(countdown("2026-11-23T12:00:05Z", at).text).toBe("2:00:05");
  });
  it("is urgent in the last two minutes and says when it is over", () => {
    expect(countdown("2026-11-23T10:01:00Z", at).urgent).toBe(true);
    expect(countdown("2026-11-23T09:59:00Z", at)).toEqual({ text: "expired", urgent: true, over: true });
  });
});
