import { useEffect, useRef, useState } from "react";
import type { StaffProfile } from "../../bindings";
import { ROLE_LABEL } from "./permissions";
import { clockTime, keyOf, lockedUntil, pinRefusal, press, type PinKey, type PinRefusal } from "./pin";

type Props = {
  person: StaffProfile;
  /** Tries the PIN; rejects with the core's error (wrong PIN, locked, …). */
  onSubmit: (pin: string) => Promise<void>;
};

const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9"];

/**
 * A PIN pad: on-screen digits, and the keyboard (digits, Backspace, Enter) while it is shown.
 * The PIN is checked by the core; a wrong one says how many tries are left, a locked profile
 * until when (the pad stays off until then).
 */
export function PinPad({ person, onSubmit }: Props) {
  const [pin, setPin] = useState("");
  const [busy, setBusy] = useState(false);
  const [refused, setRefused] = useState<PinRefusal | null>(null);
  const [, setTick] = useState(0);
  const until = refused?.locked ?? lockedUntil(person);
  const locked = until !== null && new Date(until).getTime() > Date.now();

  // Turn the pad back on when the lock runs out.
  useEffect(() => {
    if (!locked || until === null) return;
    const t = setTimeout(() => {
      setRefused(null);
      setTick((n) => n + 1);
    }, new Date(until).getTime() - Date.now() + 250);
    return () => clearTimeout(t);
  }, [locked, until]);

  const submit = async (entered: string) => {
    setBusy(true);
    try {
      await onSubmit(entered);
    } catch (e) {
      setRefused(pinRefusal(e, person.name));
      setPin("");
    } finally {
      setBusy(false);
    }
  };
  const key = (k: PinKey) => {
    if (busy || locked) return;
    const next = press(pin, k);
    setPin(next.pin);
    if (k.type === "digit") setRefused(null);
    if (next.submit) void submit(next.pin);
  };

  // The keyboard works while the pad is shown. Keys go to the pad only: the app below (its Ctrl+S,
  // its fields) hears nothing while someone signs in.
  const keyRef = useRef(key);
  keyRef.current = key;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const k = keyOf(e);
      if (k === null) {
        if (e.ctrlKey || e.metaKey || e.altKey) e.stopPropagation();
        return;
      }
      e.preventDefault();
      e.stopPropagation();
      keyRef.current(k);
    };
    window.addEventListener("keydown", onKey, { capture: true });
    return () => window.removeEventListener("keydown", onKey, { capture: true });
  }, []);

  const dots = Math.max(4, pin.length);
  return (
    <div className="pin-pad" data-testid="pin-pad" data-person={person.name}>
      <div className="pin-person">
        <span className="pin-name">{person.name}</span>
        <span className="badge">{ROLE_LABEL[person.role]}</span>
      </div>
      <div className="pin-dots" data-testid="pin-dots" data-length={pin.length} aria-label={`${pin.length} digits entered`} role="status">
        {Array.from({ length: dots }, (_, i) => (
          <span key={i} className={`pin-dot ${i < pin.length ? "pin-dot-on" : ""}`} />
        ))}
      </div>
      <div className={`pin-message ${refused || locked ? "pin-message-bad" : ""}`} data-testid="pin-message" role="alert">
        {locked && until !== null
          ? (refused?.text ?? `${person.name} is locked after too many wrong PINs until ${clockTime(until)}.`)
          : (refused?.text ?? (busy ? "Checking…" : "Enter your PIN"))}
      </div>
      <div className="pin-keys">
        {KEYS.map((d) => (
          <button key={d} type="button" className="pin-key" data-testid={`pin-key-${d}`} disabled={busy || locked} onClick={() => key({ type: "digit", digit: d })}>
            {d}
          </button>
        ))}
        <button type="button" className="pin-key pin-key-side" data-testid="pin-back" aria-label="Delete the last digit" disabled={busy || locked || pin.length === 0} onClick={() => key({ type: "back" })}>
          ⌫
        </button>
        <button type="button" className="pin-key" data-testid="pin-key-0" disabled={busy || locked} onClick={() => key({ type: "digit", digit: "0" })}>
          0
        </button>
        <button type="button" className="pin-key pin-key-side pin-key-ok" data-testid="pin-enter" aria-label="Sign in" disabled={busy || locked || pin.length === 0} onClick={() => key({ type: "enter" })}>
          OK
        </button>
      </div>
    </div>
  );
}
