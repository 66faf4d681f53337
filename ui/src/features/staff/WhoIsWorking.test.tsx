import { describe, expect, it, vi } from "vitest";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import type { SignInState, StaffProfile } from "../../bindings";
import { keys } from "../../lib/queries";
import { WhoIsWorking, type WhoMode } from "./WhoIsWorking";

function profile(name: string, role: StaffProfile["role"], n: number): StaffProfile {
  return {
    id: `00000000-0000-7000-8000-00000000000${n}`,
    name,
    role,
    created_at: "2026-12-01T10:00:00Z",
    created_by: "Olu",
    locked_until: null,
    removed_at: null,
  };
}
const olu = profile("Olu", "owner", 1);
const sam = profile("Sam", "staff", 2);
const mia = profile("Mia", "manager", 3);

function state(locked: boolean): SignInState {
  return {
    locked,
    session: { profile: sam, actor: "Sam", shop_has_profiles: true, permissions: ["sell"], withheld: [] },
  };
}

function show(mode: WhoMode, hasUnsaved: boolean) {
  // The profiles as the backend last said (a refetch outside Tauri fails and keeps them).
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  qc.setQueryData(keys.staffProfiles, [mia, olu, sam]);
  const props = { onSignedIn: vi.fn(), onSignOut: vi.fn(), onLock: vi.fn(), onCancel: vi.fn() };
  render(
    <QueryClientProvider client={qc}>
      <WhoIsWorking mode={mode} state={state(mode === "locked")} workOf={sam} hasUnsaved={() => hasUnsaved} {...props} />
    </QueryClientProvider>,
  );
  return props;
}

describe("Who is working?", () => {
  it("switches person in two taps: the person, then the PIN", async () => {
    show("switch", false);
    const user = userEvent.setup();
    expect(screen.getByTestId("who-title")).toHaveTextContent("Who is working?");
    await user.click(screen.getByRole("button", { name: /Mia/ }));
    expect(screen.getByTestId("pin-pad").dataset.person).toBe("Mia");
  });

  it("asks first when the work open in the window has unsaved changes", async () => {
    show("switch", true);
    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: /Mia/ }));
    expect(screen.getByRole("alertdialog")).toHaveTextContent("Sam has changes to a product that are not saved. Signing in as Mia discards them.");
    await user.click(screen.getByRole("button", { name: "Keep them" }));
    expect(screen.queryByTestId("pin-pad")).toBeNull();
    await user.click(screen.getByRole("button", { name: /Mia/ }));
    await user.click(screen.getByRole("button", { name: "Discard and switch to Mia" }));
    expect(screen.getByTestId("pin-pad").dataset.person).toBe("Mia");
  });

  it("opens locked on the PIN of the person whose work is kept, and lets someone else in", async () => {
    show("locked", true);
    const user = userEvent.setup();
    expect(screen.getByTestId("who-title")).toHaveTextContent("Locked");
    expect(screen.getByTestId("pin-pad").dataset.person).toBe("Sam");
    expect(screen.getByTestId("locked-note")).toHaveTextContent("Sam's work is kept as it was");
    await user.click(screen.getByTestId("someone-else"));
    expect(screen.getByTestId("people")).toHaveTextContent("Olu");
    // Going back to the same person asks nothing: their work is theirs.
    await user.click(screen.getByTestId("back-to-me"));
    expect(screen.getByTestId("pin-pad").dataset.person).toBe("Sam");
  });

  it("offers sign out and lock when asked to switch, and goes back to work", async () => {
    const props = show("switch", false);
    const user = userEvent.setup();
    await user.click(screen.getByTestId("lock-now"));
    await user.click(screen.getByTestId("sign-out"));
    await user.click(screen.getByTestId("switch-cancel"));
    expect(props.onLock).toHaveBeenCalledOnce();
    expect(props.onSignOut).toHaveBeenCalledOnce();
    expect(props.onCancel).toHaveBeenCalledOnce();
  });
});
