import { describe, expect, it } from "vitest";
import type { ApiError, Applied, CommandKind, PatchOutcome, StagedBlob } from "../../bindings";
import { CommandError } from "../../lib/api";
import { Intents } from "../../lib/commands";
import { product } from "../../test/fixtures";
import { FileEdits } from "./fileEdits";

const P = product();
const patched: PatchOutcome = { product: { ...P, version: 4 }, merge: null, replayed: false };
const lost: ApiError = { code: "internal", message: "no answer", details: {} };
const bad: ApiError = {
  code: "validation",
  message: "invalid file",
  details: { field: "file", reason: "not a PNG", errors: [{ field: "file", reason: "not a PNG" }] },
};

function setup(...answers: (PatchOutcome | ApiError)[]) {
  const sent: { opId: string; kind: CommandKind }[] = [];
  const staged: string[][] = [];
  const released: string[][] = [];
  let n = 0;
  const intents = new Intents(
    async (opId, kind) => {
      sent.push({ opId, kind });
      const a = answers.shift()!;
      if ("code" in a) throw new CommandError(a);
      const applied: Applied = { op_id: opId, replayed: false, outcome: { type: "patch", value: a } };
      return applied;
    },
    () => `op-${++n}`,
  );
  let s = 0;
  const stage = async (paths: string[]): Promise<StagedBlob[]> => {
    staged.push(paths);
    return paths.map((p) => ({
      id: `staged-${++s}`,
      blob_key: p,
      thumb_key: p,
      content_type: "image/png",
      width: 1,
      height: 1,
      size: 1,
      expires_at: "2026-12-02T00:00:00Z",
    }));
  };
  const edits = new FileEdits(intents, stage, async (ids) => void released.push(ids));
  return { edits, sent, staged, released };
}

describe("FileEdits", () => {
  it("stages, then adds the staged uploads as one version-checked command", async () => {
    const t = setup(patched);
    expect(await t.edits.add(P, ["/a.png", "/b.png"])).toBe(patched);
    expect(t.sent[0].kind).toEqual({ type: "add_images", product_id: P.id, expected_version: P.version, staged: ["staged-1", "staged-2"] });
  });

  it("retries an unanswered attempt with the same uploads and op id", async () => {
    const t = setup(lost, patched);
    await expect(t.edits.replace(P, "img", "/c.png")).rejects.toThrow("no answer");
    await t.edits.replace(P, "img", "/c.png");
    expect(t.staged).toEqual([["/c.png"]]);
    expect(t.sent.map((s) => s.opId)).toEqual(["op-1", "op-1"]);
    expect(t.sent[1].kind).toMatchObject({ type: "replace_image_file", image_id: "img", staged: "staged-1" });
    expect(t.released).toEqual([]);
  });

  it("lets go of the uploads of a refused attempt; trying again is a new action", async () => {
    const t = setup(bad, patched);
    await expect(t.edits.add(P, ["/x.jpg"])).rejects.toThrow("invalid file");
    expect(t.released).toEqual([["staged-1"]]);
    await t.edits.add(P, ["/x.jpg"]);
    expect(t.staged).toHaveLength(2);
    expect(t.sent.map((s) => s.opId)).toEqual(["op-1", "op-2"]);
  });
});
