import { useEffect, useRef } from "react";

type AppEvent<T> = { listen: (handler: (e: { payload: T }) => void) => Promise<() => void> };

/** Listens to one of the core's events while mounted (and `enabled`); the latest `onEvent` runs. */
export function useAppEvent<T>(event: AppEvent<T>, onEvent: (payload: T) => void, enabled = true) {
  const handler = useRef(onEvent);
  handler.current = onEvent;
  useEffect(() => {
    if (!enabled) return;
    let unlisten: (() => void) | undefined;
    let cancelled = false;
    event
      .listen((e) => handler.current(e.payload))
      // Unmounted before the listener was in place: take it away at once.
      .then((u) => (cancelled ? u() : (unlisten = u)))
      .catch(() => {
        /* outside Tauri (unit tests): no events */
      });
    return () => {
      cancelled = true;
      unlisten?.();
    };
  }, [event, enabled]);
}
