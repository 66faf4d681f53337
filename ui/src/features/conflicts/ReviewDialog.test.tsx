import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { product, V1 } from "../../test/fixtures";
import { ReviewDialog } from "./ReviewDialog";

describe("ReviewDialog", () => {
  it("lists their changes, mine and the core's clashes, and saves only when asked", async () => {
    const onSave = vi.fn();
    const user = userEvent.setup();
    const base = product();
    const latest = product({ version: 4, updated_by: "ben", name: "Theirs", description: "New." });
    render(
      <ReviewDialog
        base={base}
        latest={latest}
        theirs={["name", "description"]}
        mine={["name", `variants.${V1}.price_minor`]}
        preview={{ state: "clashes", clashes: ["name"], mergeable: [`variants.${V1}.price_minor`] }}
        saving={false}
        onSave={onSave}
        onCancel={() => {}}
      />,
    );
    expect(screen.getByText(/ben saved version 4/)).toBeInTheDocument();
    expect(screen.getByTestId("review-theirs")).toHaveTextContent("description");
    expect(screen.getByTestId("review-mine")).toHaveTextContent("variant LS-S price");
    expect(screen.getByTestId("review-both")).toHaveTextContent("name");
    expect(screen.getByTestId("review-preview")).toHaveTextContent("asks you about one clash");
    expect(screen.getByTestId("review-save")).toHaveTextContent("Save and resolve");
    expect(onSave).not.toHaveBeenCalled();
    await user.click(screen.getByTestId("review-save"));
    expect(onSave).toHaveBeenCalledOnce();
  });

  it("says so when the core finds that saving merges cleanly, and no clash is listed", () => {
    render(
      <ReviewDialog
        base={product()}
        latest={product({ version: 4, updated_by: "ben", description: "New." })}
        theirs={["description"]}
        mine={["name"]}
        preview={{ state: "merges", applied: ["name"] }}
        saving={false}
        onSave={() => {}}
        onCancel={() => {}}
      />,
    );
    expect(screen.queryByTestId("review-both")).toBeNull();
    expect(screen.getByTestId("review-preview")).toHaveTextContent("nothing clashes");
    expect(screen.getByTestId("review-save")).toHaveTextContent("Save merged");
  });
});
