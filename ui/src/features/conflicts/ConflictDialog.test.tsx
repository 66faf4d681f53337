import { render, screen, within } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { clash, product, report, V1 } from "../../test/fixtures";
import { ConflictDialog } from "./ConflictDialog";

describe("ConflictDialog", () => {
  const base = product();
  const current = product({ version: 5, name: "Theirs" });
  const r = report(
    current,
    [
      clash({}),
      clash({ path: `variants.${V1}.sku`, entity: "variant", entity_id: V1, field: "sku", base: "LS-S", mine: "LS-SMALL", theirs: "LS-01" }),
    ],
    ["description"],
  );

  it("shows both sides with who changed theirs, and the clean merges", () => {
    render(<ConflictDialog report={r} mineBase={base} categories={[]} onResolve={() => {}} onCancel={() => {}} />);
    const dialog = screen.getByTestId("conflict-dialog");
    expect(within(dialog).getByText(/now at version 5/)).toBeInTheDocument();
    expect(within(dialog).getByTestId("mergeable")).toHaveTextContent("description");
    const [name, sku] = within(dialog).getAllByTestId("clash");
    expect(within(name).getByTestId("mine-value")).toHaveTextContent("Mine");
    expect(within(name).getByTestId("theirs-value")).toHaveTextContent("Theirs");
    expect(within(name).getByText(/ben/)).toBeInTheDocument();
    expect(within(sku).getByText("Variant LS-S · SKU")).toBeInTheDocument();
  });

  it("resolves only when every clash has a choice, passing edits through", async () => {
    const onResolve = vi.fn();
    const user = userEvent.setup();
    render(<ConflictDialog report={r} mineBase={base} categories={[]} onResolve={onResolve} onCancel={() => {}} />);
    const save = screen.getByTestId("resolve");
    expect(save).toBeDisabled();
    const [name, sku] = screen.getAllByTestId("clash");
    await user.click(within(name).getByTestId("pick-theirs"));
    expect(save).toBeDisabled();
    const edit = within(sku).getByLabelText(/New value/);
    await user.clear(edit);
    await user.type(edit, "LS-S1");
    expect(save).toBeEnabled();
    await user.click(save);
    expect(onResolve).toHaveBeenCalledWith({
      name: { pick: "theirs" },
      [`variants.${V1}.sku`]: { pick: "edit", value: "LS-S1" },
    });
  });

  it("offers delete-specific choices", async () => {
    const deleted = report(current, [
      clash({ path: `variants.${V1}`, entity: "variant", entity_id: V1, field: null, kind: "deleted_by_them", base: base.variants[0], mine: { id: V1, sku: "LS-S" }, theirs: null }),
    ]);
    render(<ConflictDialog report={deleted} mineBase={base} categories={[]} onResolve={() => {}} onCancel={() => {}} />);
    expect(screen.getByText("Keep my edit (re-create it)")).toBeInTheDocument();
    expect(screen.getByText("Accept the deletion")).toBeInTheDocument();
    expect(screen.getByTestId("theirs-value")).toHaveTextContent("Deleted");
    expect(screen.queryByLabelText(/New value/)).toBeNull();
  });
});

describe("ConflictDialog, a replaced image file", () => {
  const base = product();
  const IMG_ID = base.images[0].id;
  const path = `images.${IMG_ID}.blob_key`;
  const current = product({ version: 4, images: [{ ...base.images[0], blob_key: "blobs/ef/01" }] });
  const r = report(current, [
    clash({ path, entity: "image", entity_id: IMG_ID, field: "blob_key", kind: "file_replaced_by_them", base: "blobs/ab/cd", mine: "blobs/ab/cd", theirs: "blobs/ef/01" }),
  ]);

  it("shows both pictures and the two choices; keep-all-mine takes their picture", async () => {
    const onResolve = vi.fn();
    const user = userEvent.setup();
    const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    render(
      <QueryClientProvider client={qc}>
        <ConflictDialog report={r} mineBase={base} categories={[]} onResolve={onResolve} onCancel={() => {}} />
      </QueryClientProvider>,
    );
    expect(screen.getByTestId("picture-mine")).toBeInTheDocument();
    expect(screen.getByTestId("picture-theirs")).toBeInTheDocument();
    expect(screen.getByText("Use their picture (keep my other changes)")).toBeInTheDocument();
    await user.click(screen.getByTestId("pick-drop"));
    await user.click(screen.getByTestId("resolve"));
    expect(onResolve).toHaveBeenLastCalledWith({ [path]: { pick: "drop" } });
    await user.click(screen.getByText("Keep all mine"));
    await user.click(screen.getByTestId("resolve"));
    expect(onResolve).toHaveBeenLastCalledWith({ [path]: { pick: "theirs" } });
  });
});
