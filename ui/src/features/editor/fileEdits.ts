// Adding and replacing image files: stage the files (the core checks and stores them), then apply
// one version-checked `add_images` / `replace_image_file` command that claims the staged uploads.
import { commands, type CommandKind, type PatchOutcome, type Product, type StagedBlob } from "../../bindings";
import { call, outcomeUnsure } from "../../lib/api";
import { writes, type Intents } from "../../lib/commands";

type FileCommand = Extract<CommandKind, { type: "add_images" | "replace_image_file" }>;

export class FileEdits {
  /**
   * Paths (as JSON) → the staged uploads of an attempt whose outcome is unknown. A retry of the
   * same files sends the same uploads, so it is the same command under the same op id; and if the
   * first attempt did claim them, any other command that names them is refused, never applied
   * twice.
   */
  private readonly pending = new Map<string, string[]>();
  private readonly intents: Intents;
  private readonly stage: (paths: string[]) => Promise<StagedBlob[]>;
  private readonly release: (ids: string[]) => Promise<unknown>;

  constructor(
    intents: Intents = writes,
    stage: (paths: string[]) => Promise<StagedBlob[]> = (paths) => call(commands.stageImageFiles(paths)),
    release: (ids: string[]) => Promise<unknown> = (ids) => call(commands.releaseStaged(ids)),
  ) {
    this.intents = intents;
    this.stage = stage;
    this.release = release;
  }

  add(from: Product, paths: string[]): Promise<PatchOutcome> {
    return this.run(paths, (staged) => ({ type: "add_images", product_id: from.id, expected_version: from.version, staged }));
  }

  replace(from: Product, imageId: string, path: string): Promise<PatchOutcome> {
    return this.run([path], (staged) => ({
      type: "replace_image_file",
      product_id: from.id,
      expected_version: from.version,
      image_id: imageId,
      staged: staged[0],
    }));
  }

  private async run(paths: string[], kind: (staged: string[]) => FileCommand): Promise<PatchOutcome> {
    const key = JSON.stringify(paths);
    const staged = this.pending.get(key) ?? (await this.stage(paths)).map((b) => b.id);
    this.pending.delete(key);
    try {
      return await this.intents.apply(kind(staged));
    } catch (e) {
      if (outcomeUnsure(e)) this.pending.set(key, staged);
      // Refused: this attempt claimed nothing, so let the files go now rather than when they
      // expire (the core keeps any file something uses).
      else this.release(staged).catch(() => {});
      throw e;
    }
  }
}

export const fileEdits = new FileEdits();
