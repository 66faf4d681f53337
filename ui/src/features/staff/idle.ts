// Locking after a while without input: any key, click, touch, wheel or pointer movement in the
// window counts as work. The settings choose the minutes (0 never locks).
import { useEffect, useRef } from "react";

export const ACTIVITY = ["keydown", "pointerdown", "pointermove", "wheel", "touchstart"] as const;
/** How often the watch looks at the clock. */
export const CHECK_MS = 1_000;

/** Whether `minutes` without input have passed since `lastActivity` (ms). */
export function idleFor(minutes: number, lastActivity: number, now: number): boolean {
  return minutes > 0 && now - lastActivity >= minutes * 60_000;
}

/**
 * Calls `onIdle` once when the window has had no input for `minutes`, while `armed` (someone is
 * signed in and the app is not locked yet). Arming again starts the count afresh.
 */
export function useIdleLock(minutes: number, armed: boolean, onIdle: () => void) {
  const onIdleRef = useRef(onIdle);
  onIdleRef.current = onIdle;
  useEffect(() => {
    if (!armed || minutes <= 0) return;
    let last = Date.now();
    const seen = () => {
      last = Date.now();
    };
    for (const e of ACTIVITY) window.addEventListener(e, seen, { capture: true, passive: true });
    const timer = setInterval(() => {
      if (idleFor(minutes, last, Date.now())) {
        clearInterval(timer);
        onIdleRef.current();
      }
    }, CHECK_MS);
    return () => {
      clearInterval(timer);
      for (const e of ACTIVITY) window.removeEventListener(e, seen, { capture: true });
    };
  }, [minutes, armed]);
}
