import { useState } from "react";
import { v7 as uuidv7 } from "uuid";
import { commands, type Role, type StaffProfile } from "../../bindings";
import { call, explain, fieldErrors, outcomeUnsure } from "../../lib/api";
import { ROLE_LABEL } from "./permissions";

type Props = {
  /** The shop's first profile: always its owner. */
  firstOwner?: boolean;
  /** Why the person signed in may not add profiles, or null. */
  blocked?: string | null;
  onAdded: (profile: StaffProfile, pin: string) => Promise<void> | void;
};

const ROLES: Role[] = ["staff", "manager", "owner"];

/**
 * A new profile: name, role and the PIN twice. The core checks the rules (name, PIN of 4–12
 * digits, the first profile an owner, only an owner adds one) and hashes the PIN; this form only
 * checks that the two PINs typed are the same.
 */
export function StaffForm({ firstOwner = false, blocked = null, onAdded }: Props) {
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>(firstOwner ? "owner" : "staff");
  const [pin, setPin] = useState("");
  const [again, setAgain] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // An attempt whose answer was lost is sent again under the same op id (added at most once).
  const [opId, setOpId] = useState(() => uuidv7());

  const submit = async () => {
    setFailure(null);
    if (pin !== again) return setErrors({ again: "The two PINs are not the same" });
    setErrors({});
    setBusy(true);
    try {
      const profile = await call(commands.addStaff(opId, name, role, pin));
      setOpId(uuidv7());
      setName("");
      setPin("");
      setAgain("");
      await onAdded(profile, pin);
    } catch (e) {
      if (!outcomeUnsure(e)) setOpId(uuidv7());
      const fe = fieldErrors(e);
      setErrors(fe);
      if (Object.keys(fe).length === 0) setFailure(explain(e));
      else if (fe.pin_hash) setFailure(fe.pin_hash);
    } finally {
      setBusy(false);
    }
  };

  const off = busy || blocked !== null;
  return (
    <form
      className="staff-form"
      data-testid={firstOwner ? "owner-form" : "staff-form"}
      title={blocked ?? undefined}
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <label className="field">
        <span className="label">{firstOwner ? "Your name" : "Name"}</span>
        <input className={`input ${errors.name ? "invalid" : ""}`} data-testid="staff-name" autoComplete="off" disabled={off} value={name} onChange={(e) => setName(e.target.value)} />
        {errors.name && <div className="field-error" role="alert">{errors.name}</div>}
      </label>
      {!firstOwner && (
        <label className="field">
          <span className="label">Role</span>
          <select className="input" data-testid="staff-role" disabled={off} value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {ROLE_LABEL[r]}
              </option>
            ))}
          </select>
          {errors.role && <div className="field-error" role="alert">{errors.role}</div>}
        </label>
      )}
      <label className="field">
        <span className="label">PIN (4–12 digits)</span>
        <input
          className={`input ${errors.pin ? "invalid" : ""}`}
          data-testid="staff-pin"
          type="password"
          inputMode="numeric"
          autoComplete="new-password"
          disabled={off}
          value={pin}
          onChange={(e) => setPin(e.target.value)}
        />
        {errors.pin && <div className="field-error" role="alert">{errors.pin}</div>}
      </label>
      <label className="field">
        <span className="label">PIN again</span>
        <input
          className={`input ${errors.again ? "invalid" : ""}`}
          data-testid="staff-pin-again"
          type="password"
          inputMode="numeric"
          autoComplete="new-password"
          disabled={off}
          value={again}
          onChange={(e) => setAgain(e.target.value)}
        />
        {errors.again && <div className="field-error" role="alert">{errors.again}</div>}
      </label>
      <button type="submit" className="btn btn-primary" data-testid="staff-add" disabled={off || !name.trim() || !pin || !again}>
        {busy ? "Saving…" : firstOwner ? "Create the owner's profile" : "Add"}
      </button>
      {failure && (
        <div className="banner banner-error field-wide" role="alert">
          {failure}
        </div>
      )}
    </form>
  );
}
