import type { Session } from "../../bindings";
import { ROLE_LABEL } from "./permissions";

type Props = {
  session: Session | null;
  locked: boolean;
  /** Tapped while someone is signed in: "Who is working?" to switch person, sign out or lock. */
  onSwitch: () => void;
  /** Tapped in a shop without profiles: Settings → Staff, to make the owner's. */
  onSetUp: () => void;
};

/** The title bar's "who is working": the person signed in and their role. */
export function PersonButton({ session, locked, onSwitch, onSetUp }: Props) {
  if (!session) return null;
  const p = session.profile;
  if (p)
    return (
      <button className="person-chip" data-testid="signed-in" data-name={p.name} data-role={p.role} onClick={onSwitch} title="Switch person, lock or sign out">
        <span className="person-initial person-initial-small" aria-hidden>
          {p.name.slice(0, 1).toUpperCase()}
        </span>
        <span className="person-chip-name">{p.name}</span>
        <span className="muted">{locked ? "locked" : ROLE_LABEL[p.role]}</span>
      </button>
    );
  if (session.shop_has_profiles) return null;
  return (
    <button
      className="person-chip"
      data-testid="signed-in"
      data-name={session.actor}
      onClick={onSetUp}
      title="No staff profiles: everyone here acts as the owner. Set up sign-in in Settings → Staff."
    >
      <span className="person-chip-name">{session.actor}</span>
      <span className="muted">owner · no sign-in</span>
    </button>
  );
}
