import { useState } from "react";
import { useSignIn } from "../../lib/queries";
import { useSignInActions } from "./session";
import { StaffForm } from "./StaffForm";

const DISMISSED = "stockdesk.ownerOfferDismissed";

/**
 * In a shop without profiles, where the editor is empty: an offer to create the owner's profile
 * (then everyone signs in). A one-person shop says so once and works as before; Settings → Staff
 * still offers it.
 */
export function OwnerOffer() {
  const session = useSignIn().data?.session;
  const actions = useSignInActions();
  const [dismissed, setDismissed] = useState(() => localStorage.getItem(DISMISSED) === "1");
  const [open, setOpen] = useState(false);
  if (!session || session.shop_has_profiles || dismissed) return null;
  return (
    <div className="offer" data-testid="owner-offer">
      <div className="offer-title">Several people working here?</div>
      <p className="offer-text">
        Give each person a profile and a PIN: everyone signs in, the history shows who did what, and helpers can sell and count stock
        without changing prices. It starts with yours, the owner's.
      </p>
      {open ? (
        <StaffForm firstOwner onAdded={async (p, pin) => void (await actions.signIn(p.name, pin))} />
      ) : (
        <div className="offer-actions">
          <button className="btn btn-primary" data-testid="owner-offer-create" onClick={() => setOpen(true)}>
            Create the owner's profile
          </button>
          <button
            className="btn"
            onClick={() => {
              localStorage.setItem(DISMISSED, "1");
              setDismissed(true);
            }}
          >
            Just me, no sign-in
          </button>
        </div>
      )}
    </div>
  );
}
