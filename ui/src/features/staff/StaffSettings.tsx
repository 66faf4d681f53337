import { useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { commands, type StaffEventKind, type StaffProfile } from "../../bindings";
import { call, describeError, errorCode, explain } from "../../lib/api";
import { writes } from "../../lib/commands";
import { dateTime, timeAgo } from "../../lib/format";
import { keys, useLockSettings, useSignIn, useStaffEvents, useStaffProfiles } from "../../lib/queries";
import { Confirm } from "../../components/Confirm";
import { ErrorState, Spinner } from "../../components/States";
import { useToast } from "../../components/Toasts";
import { ROLE_LABEL, usePermissions } from "./permissions";
import { clockTime, lockedUntil } from "./pin";
import { useSignInActions } from "./session";
import { StaffForm } from "./StaffForm";

/** The idle times offered (minutes; 0 never locks). */
export const IDLE_CHOICES = [0, 1, 2, 5, 15, 30];

const EVENT_TEXT = {
  signed_in: "signed in",
  wrong_pin: "wrong PIN",
  locked_out: "locked out after too many wrong PINs",
  refused_locked: "tried to sign in while locked",
} satisfies Record<StaffEventKind, string>;

/** Settings → Staff: this terminal's idle lock, the shop's profiles, and recent sign-ins. */
export function StaffSettings() {
  const state = useSignIn().data;
  const session = state?.session;
  return (
    <div data-testid="staff-settings">
      <IdleLock />
      <h3 className="dialog-sub">Staff profiles</h3>
      {!session ? (
        <Spinner />
      ) : session.shop_has_profiles ? (
        <Profiles me={session.profile} />
      ) : (
        <FirstOwner />
      )}
    </div>
  );
}

function IdleLock() {
  const lock = useLockSettings();
  const qc = useQueryClient();
  const toast = useToast();
  const minutes = lock.data?.idle_minutes;
  const choose = async (idle_minutes: number) => {
    try {
      qc.setQueryData(keys.lockSettings, await call(commands.setLockSettings({ idle_minutes })));
    } catch (e) {
      toast("error", "Not changed", explain(e));
    }
  };
  return (
    <>
      <h3 className="dialog-sub">Lock this terminal</h3>
      <p className="dialog-text">
        After this long without anyone touching it, the app locks: the person signed in (or anyone else) signs in again with a PIN. What is
        typed stays.
      </p>
      <div className="segmented" role="radiogroup" aria-label="Lock after" data-testid="idle-lock">
        {IDLE_CHOICES.map((m) => (
          <button
            key={m}
            role="radio"
            aria-checked={minutes === m}
            data-minutes={m}
            className={`seg ${minutes === m ? "seg-on" : ""}`}
            onClick={() => void choose(m)}
          >
            {m === 0 ? "Never" : `${m} min`}
          </button>
        ))}
      </div>
    </>
  );
}

/** A shop without profiles: whoever uses it is the owner, until the owner makes a profile. */
function FirstOwner() {
  const actions = useSignInActions();
  return (
    <>
      <p className="dialog-text">
        No profiles yet: whoever uses Stockdesk acts as its owner. Create yours to have everyone sign in with a PIN, so the history shows
        who did what and helpers can sell and count stock without changing prices.
      </p>
      <StaffForm firstOwner onAdded={async (p, pin) => void (await actions.signIn(p.name, pin))} />
    </>
  );
}

function Profiles({ me }: { me: StaffProfile | null }) {
  const profiles = useStaffProfiles();
  const events = useStaffEvents(8);
  const perms = usePermissions();
  const toast = useToast();
  const qc = useQueryClient();
  const [removing, setRemoving] = useState<StaffProfile | null>(null);
  const blocked = perms.why("manage_staff");

  const remove = async (p: StaffProfile) => {
    setRemoving(null);
    try {
      await writes.apply({ type: "remove_staff", staff_id: p.id });
      toast("success", `${p.name} removed`, "They can no longer sign in; the history keeps their name.");
    } catch (e) {
      // The last owner's refusal says why in the core's words ("add another owner first").
      toast("error", `${p.name} not removed`, errorCode(e) === "invalid_state" ? describeError(e) : explain(e));
    } finally {
      void qc.invalidateQueries({ queryKey: keys.staff });
      void qc.invalidateQueries({ queryKey: keys.session });
    }
  };

  return (
    <>
      {blocked && (
        <div className="perm-note" data-testid="perm-hint" data-permission="manage_staff">
          {blocked}
        </div>
      )}
      {profiles.isPending ? (
        <Spinner />
      ) : profiles.isError ? (
        <ErrorState title="Could not load the profiles" message={describeError(profiles.error)} onRetry={() => profiles.refetch()} />
      ) : (
        <table className="grid-table staff-table" data-testid="staff-list">
          <tbody>
            {profiles.data.map((p) => {
              const until = lockedUntil(p);
              return (
                <tr key={p.id} data-name={p.name}>
                  <td className="who">
                    {p.name}
                    {p.id === me?.id && <span className="muted"> (you)</span>}
                  </td>
                  <td>{ROLE_LABEL[p.role]}</td>
                  <td className="muted small">{until ? `Locked until ${clockTime(until)}` : `added by ${p.created_by} ${timeAgo(p.created_at)}`}</td>
                  <td className="actions">
                    <button className="btn btn-small" disabled={blocked !== null} title={blocked ?? `Remove ${p.name}`} onClick={() => setRemoving(p)}>
                      Remove
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <h3 className="dialog-sub">Add a person</h3>
      <StaffForm blocked={blocked} onAdded={(p) => toast("success", `${p.name} added`, `They sign in with their PIN as ${ROLE_LABEL[p.role].toLowerCase()}.`)} />
      {events.data && events.data.length > 0 && (
        <>
          <h3 className="dialog-sub">Recent sign-ins</h3>
          <ul className="staff-events" data-testid="staff-events">
            {events.data.map((e, i) => (
              <li key={i} className={e.kind === "signed_in" ? "" : "status-bad"}>
                <span title={dateTime(e.at)}>{timeAgo(e.at)}</span> · {e.name} {EVENT_TEXT[e.kind]}
              </li>
            ))}
          </ul>
        </>
      )}
      <Confirm
        open={removing !== null}
        title={`Remove ${removing?.name ?? ""}?`}
        body="They can no longer sign in or act, also at the other terminals at once. The history keeps their name."
        confirm="Remove"
        danger
        onConfirm={() => removing && void remove(removing)}
        onCancel={() => setRemoving(null)}
      />
    </>
  );
}
