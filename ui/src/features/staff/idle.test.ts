import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, renderHook } from "@testing-library/react";
import { idleFor, useIdleLock } from "./idle";

describe("idle time", () => {
  it("counts minutes without input; 0 never locks", () => {
    expect(idleFor(1, 0, 59_999)).toBe(false);
    expect(idleFor(1, 0, 60_000)).toBe(true);
    expect(idleFor(5, 1_000, 301_000)).toBe(true);
    expect(idleFor(0, 0, 10 ** 9)).toBe(false);
  });
});

describe("locking after a while without input", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("locks once, after the minutes set, counted from the last input", () => {
    const onIdle = vi.fn();
    renderHook(() => useIdleLock(2, true, onIdle));
    vi.advanceTimersByTime(90_000);
    expect(onIdle).not.toHaveBeenCalled();
    // Typing (or a click, a touch, the wheel) starts the count again.
    fireEvent.keyDown(window, { key: "a" });
    vi.advanceTimersByTime(90_000);
    expect(onIdle).not.toHaveBeenCalled();
    fireEvent.pointerDown(document.body);
    vi.advanceTimersByTime(119_000);
    expect(onIdle).not.toHaveBeenCalled();
    vi.advanceTimersByTime(2_000);
    expect(onIdle).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(600_000);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });

  it("does nothing when off, or while nobody is signed in or it is locked already", () => {
    const onIdle = vi.fn();
    const { rerender } = renderHook(({ minutes, armed }) => useIdleLock(minutes, armed, onIdle), {
      initialProps: { minutes: 0, armed: true },
    });
    vi.advanceTimersByTime(3_600_000);
    rerender({ minutes: 1, armed: false });
    vi.advanceTimersByTime(3_600_000);
    expect(onIdle).not.toHaveBeenCalled();
    // Armed again (after signing in): the count starts then, not at the last input before.
    rerender({ minutes: 1, armed: true });
    vi.advanceTimersByTime(59_000);
    expect(onIdle).not.toHaveBeenCalled();
    vi.advanceTimersByTime(2_000);
    expect(onIdle).toHaveBeenCalledTimes(1);
  });
});
