import { useState } from "react";
import * as Dialog from "@radix-ui/react-dialog";
import type { SignInState, StaffProfile } from "../../bindings";
import { describeError } from "../../lib/api";
import { useStaffProfiles } from "../../lib/queries";
import { Confirm } from "../../components/Confirm";
import { ErrorState, Spinner } from "../../components/States";
import { ROLE_LABEL } from "./permissions";
import { clockTime, lockedUntil } from "./pin";
import { PinPad } from "./PinPad";
import { useSignInActions } from "./session";

/** Why the screen is up: nobody is signed in, the terminal locked, or the person asked to switch. */
export type WhoMode = "start" | "locked" | "switch";

type Props = {
  mode: WhoMode;
  state: SignInState;
  /** The person whose work is open in the window, if any. */
  workOf: StaffProfile | null;
  /** Whether that work has unsaved changes (then signing in as someone else asks first). */
  hasUnsaved: () => boolean;
  /** Someone signed in (the session query already holds the new state). */
  onSignedIn: () => void;
  onSignOut: () => void;
  onLock: () => void;
  onCancel: () => void;
};

/**
 * "Who is working?": the live profiles to pick from, then a PIN pad. It covers the whole window
 * while it is up; the app underneath stays as it was (a locked editor keeps what was typed).
 */
export function WhoIsWorking({ mode, state, workOf, hasUnsaved, onSignedIn, onSignOut, onLock, onCancel }: Props) {
  const me = state.session.profile;
  const profiles = useStaffProfiles();
  const actions = useSignInActions();
  const [chosen, setChosen] = useState<StaffProfile | null>(mode === "locked" ? me : null);
  const [asking, setAsking] = useState<StaffProfile | null>(null);

  const pick = (p: StaffProfile) => {
    if (mode === "switch" && p.id === me?.id) return onCancel();
    if (workOf !== null && p.id !== workOf.id && hasUnsaved()) setAsking(p);
    else setChosen(p);
  };
  const signIn = async (person: StaffProfile, pin: string) => {
    await actions.signIn(person.name, pin);
    onSignedIn();
  };

  const title = chosen ? (mode === "locked" && chosen.id === me?.id ? "Locked" : "Enter your PIN") : "Who is working?";
  return (
    <Dialog.Root open modal>
      <Dialog.Portal>
        <Dialog.Content
          className="lockscreen"
          data-testid="who-is-working"
          data-mode={mode}
          aria-describedby={undefined}
          onEscapeKeyDown={(e) => {
            e.preventDefault();
            if (chosen && !(mode === "locked" && chosen.id === me?.id)) setChosen(null);
            else if (mode === "switch") onCancel();
          }}
          onPointerDownOutside={(e) => e.preventDefault()}
          onInteractOutside={(e) => e.preventDefault()}
        >
          <div className="lock-card">
            <div className="brand lock-brand">
              <span className="logo" aria-hidden />
              Stockdesk
            </div>
            <Dialog.Title className="lock-title" data-testid="who-title">
              {title}
            </Dialog.Title>
            {chosen ? (
              <>
                {mode === "locked" && chosen.id === me?.id && (
                  <p className="lock-text" data-testid="locked-note">
                    {chosen.name}'s work is kept as it was. Enter {chosen.name}'s PIN to go on.
                  </p>
                )}
                <PinPad key={chosen.id} person={chosen} onSubmit={(pin) => signIn(chosen, pin)} />
                <div className="lock-actions">
                  <button className="btn btn-ghost" data-testid="someone-else" onClick={() => setChosen(null)}>
                    {mode === "locked" && chosen.id === me?.id ? "Someone else" : "Back"}
                  </button>
                </div>
              </>
            ) : (
              <>
                {!profiles.data ? (
                  profiles.isError ? (
                    <ErrorState title="Could not load the staff profiles" message={describeError(profiles.error)} onRetry={() => profiles.refetch()} />
                  ) : (
                    <Spinner label="Loading the staff…" />
                  )
                ) : (
                  <ul className="people" data-testid="people">
                    {profiles.data.map((p) => {
                      const until = lockedUntil(p);
                      return (
                        <li key={p.id}>
                          <button className={`person ${p.id === me?.id ? "person-me" : ""}`} data-testid="person" data-name={p.name} onClick={() => pick(p)}>
                            <span className="person-initial" aria-hidden>
                              {p.name.slice(0, 1).toUpperCase()}
                            </span>
                            <span className="person-name">{p.name}</span>
                            <span className="muted small">
                              {ROLE_LABEL[p.role]}
                              {p.id === me?.id && (state.locked ? " · locked" : " · signed in")}
                            </span>
                            {until && <span className="person-locked">Locked until {clockTime(until)}</span>}
                          </button>
                        </li>
                      );
                    })}
                  </ul>
                )}
                <div className="lock-actions">
                  {mode === "switch" && (
                    <>
                      <button className="btn" data-testid="sign-out" onClick={onSignOut}>
                        Sign out
                      </button>
                      <button className="btn" data-testid="lock-now" onClick={onLock}>
                        Lock
                      </button>
                      <span className="spacer" />
                      <button className="btn btn-primary" data-testid="switch-cancel" onClick={onCancel}>
                        Back to work
                      </button>
                    </>
                  )}
                  {mode === "locked" && me && (
                    <button className="btn" data-testid="back-to-me" onClick={() => setChosen(me)}>
                      Back to {me.name}
                    </button>
                  )}
                </div>
              </>
            )}
          </div>
          <Confirm
            open={asking !== null}
            title="Discard unsaved changes?"
            body={`${workOf?.name ?? "The person signed in"} has changes to a product that are not saved. Signing in as ${asking?.name ?? "someone else"} discards them.`}
            confirm={`Discard and switch to ${asking?.name ?? ""}`}
            cancel="Keep them"
            danger
            onConfirm={() => {
              setChosen(asking);
              setAsking(null);
            }}
            onCancel={() => setAsking(null)}
          />
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}
