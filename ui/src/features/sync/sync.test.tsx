import { describe, expect, it } from "vitest";
import { render, screen } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import type { ProductPatch, SyncStatus } from "../../bindings";
import { clash, product, report, V1 } from "../../test/fixtures";
import { resolutionFor } from "./resolution";
import { syncLabel } from "./label";
import { syncKeys } from "./queries";
import { SyncStatusItem } from "./SyncStatusItem";

function status(over: Partial<SyncStatus> = {}): SyncStatus {
  return {
    joined: true,
    terminal: "till",
    terminal_id: V1,
    shop: "postgres://shop@db/shop",
    online: true,
    syncing: false,
    pending: 0,
    oldest_pending_secs: null,
    attention: 0,
    cursor: "1-1",
    lag: null,
    last_push_at: null,
    last_pull_at: null,
    last_sync_at: new Date(Date.now() - 120_000).toISOString(),
    last_error: null,
    last_error_code: null,
    last_error_at: null,
    ...over,
  };
}

describe("syncLabel", () => {
  it("says nothing for a database of its own", () => {
    expect(syncLabel(status({ joined: false }))).toBeNull();
  });
  it("says Offline with what waits, and why by code", () => {
    const l = syncLabel(status({ online: false, pending: 3, last_error_code: "unreachable" }))!;
    expect(l.state).toBe("offline");
    expect(l.text).toBe("Offline");
    expect(l.detail).toBe("3 pending · last sync 2 minutes ago");
    expect(l.title).toContain("cannot be reached");
  });
  it("says Syncing while a sync runs", () => {
    expect(syncLabel(status({ syncing: true }))!.text).toBe("Syncing…");
  });
});

describe("resolutionFor", () => {
  const current = product({ version: 7 });
  const mine: ProductPatch = { name: "Mine", variants: { update: [{ id: V1, price_minor: 7770, sku: "MY-SKU" }] } };
  const r = report(current, [
    clash({}),
    clash({ path: `variants.${V1}.price_minor`, entity: "variant", entity_id: V1, field: "price_minor", base: 1000, mine: 7770, theirs: 5555 }),
  ]);

  it("keeps all mine or all theirs as the core's own resolutions", () => {
    expect(resolutionFor(mine, r, {})).toEqual({ action: "keep_mine" });
    expect(resolutionFor(mine, r, { name: { pick: "theirs" }, [`variants.${V1}.price_minor`]: { pick: "theirs" } })).toEqual({ action: "keep_theirs" });
  });

  it("builds a patch against the current version from a mix and an edited value", () => {
    const res = resolutionFor(mine, r, { name: { pick: "theirs" }, [`variants.${V1}.price_minor`]: { pick: "edit", value: "60.00" } });
    expect(res).toEqual({
      action: "patch",
      expected_version: 7,
      patch: { variants: { update: [{ id: V1, price_minor: 6000, sku: "MY-SKU" }] } },
    });
    expect(mine.name).toBe("Mine");
  });
});

describe("SyncStatusItem", () => {
  const show = (s: SyncStatus) => {
    const qc = new QueryClient({ defaultOptions: { queries: { retry: false, staleTime: Infinity } } });
    qc.setQueryData(syncKeys.status, s);
    return render(
      <QueryClientProvider client={qc}>
        <SyncStatusItem />
      </QueryClientProvider>,
    );
  };
  it("shows the state, what waits and the attention badge", () => {
    show(status({ online: false, pending: 1, attention: 2 }));
    expect(screen.getByTestId("sync-status")).toHaveAttribute("data-state", "offline");
    expect(screen.getByTestId("sync-state")).toHaveTextContent("Offline");
    expect(screen.getByTestId("sync-detail")).toHaveTextContent("1 pending");
    expect(screen.getByTestId("attention-count")).toHaveTextContent("2");
  });
  it("shows nothing when the database is not a replica", () => {
    const { container } = show(status({ joined: false }));
    expect(container).toBeEmptyDOMElement();
  });
});
