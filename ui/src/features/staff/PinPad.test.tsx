import { afterEach, describe, expect, it, vi } from "vitest";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { StaffProfile } from "../../bindings";
import { CommandError } from "../../lib/api";
import { PinPad } from "./PinPad";

const sam: StaffProfile = {
  id: "00000000-0000-7000-8000-000000000005",
  name: "Sam",
  role: "staff",
  created_at: "2026-12-01T10:00:00Z",
  created_by: "Olu",
  locked_until: null,
  removed_at: null,
};

const wrongPin = (left: number) =>
  new CommandError({ code: "forbidden", message: "wrong PIN", details: { reason: "wrong_pin", attempts_left: left } });

const dots = () => screen.getByTestId("pin-dots").dataset.length;

describe("the PIN pad", () => {
  afterEach(() => vi.restoreAllMocks());

  it("takes the PIN from the keyboard and says how many tries are left", async () => {
    const onSubmit = vi.fn().mockRejectedValue(wrongPin(3));
    render(<PinPad person={sam} onSubmit={onSubmit} />);
    const user = userEvent.setup();
    await user.keyboard("12x3");
    expect(dots()).toBe("3");
    await user.keyboard("{Backspace}4{Enter}");
    expect(onSubmit).toHaveBeenCalledWith("124");
    expect(await screen.findByText("Wrong PIN. 3 tries left.")).toBeInTheDocument();
    expect(dots()).toBe("0");
  });

  it("takes the PIN from its own buttons", async () => {
    const onSubmit = vi.fn().mockResolvedValue(undefined);
    render(<PinPad person={sam} onSubmit={onSubmit} />);
    const user = userEvent.setup();
    expect(screen.getByTestId("pin-enter")).toBeDisabled();
    for (const d of ["5", "6", "7", "8"]) await user.click(screen.getByTestId(`pin-key-${d}`));
    await user.click(screen.getByTestId("pin-back"));
    await user.click(screen.getByTestId("pin-key-9"));
    await user.click(screen.getByTestId("pin-enter"));
    expect(onSubmit).toHaveBeenCalledExactlyOnceWith("5679");
  });

  it("keeps the keys from the app underneath (no Ctrl+S, no typing into a field)", async () => {
    const heard = vi.fn();
    window.addEventListener("keydown", heard);
    render(<PinPad person={sam} onSubmit={vi.fn().mockResolvedValue(undefined)} />);
    await userEvent.setup().keyboard("1{Control>}s{/Control}{Enter}");
    window.removeEventListener("keydown", heard);
    expect(heard.mock.calls.map(([e]) => (e as KeyboardEvent).key).filter((k) => k !== "Control")).toEqual([]);
  });

  it("stays off while the profile is locked, and says until when", async () => {
    const until = new Date(Date.now() + 4 * 60_000).toISOString();
    const onSubmit = vi.fn();
    render(<PinPad person={{ ...sam, locked_until: until }} onSubmit={onSubmit} />);
    expect(screen.getByTestId("pin-message")).toHaveTextContent(/^Sam is locked after too many wrong PINs until .+\.$/);
    expect(screen.getByTestId("pin-key-1")).toBeDisabled();
    await userEvent.setup().keyboard("1234{Enter}");
    expect(dots()).toBe("0");
    expect(onSubmit).not.toHaveBeenCalled();
  });

  it("locks at once when the core says the last try locked the profile", async () => {
    const until = new Date(Date.now() + 5 * 60_000).toISOString();
    const locked = new CommandError({ code: "forbidden", message: "locked", details: { reason: "locked", until } });
    render(<PinPad person={sam} onSubmit={vi.fn().mockRejectedValue(locked)} />);
    await userEvent.setup().keyboard("0000{Enter}");
    expect(await screen.findByText(/Sam is locked after too many wrong PINs until/)).toBeInTheDocument();
    expect(screen.getByTestId("pin-key-0")).toBeDisabled();
  });
});
