import { useState } from "react";
import * as Dialog from "@radix-ui/react-dialog";
import { useQueryClient } from "@tanstack/react-query";
import { explain, fieldErrors } from "../../lib/api";
import { writes } from "../../lib/commands";
import { keys } from "../../lib/queries";

type Props = { open: boolean; onClose: () => void; onCreated: (id: string) => void };

/** Creates a draft product from a name; everything else is edited in the editor. */
export function NewProductDialog({ open, onClose, onCreated }: Props) {
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const qc = useQueryClient();
  const create = async () => {
    setBusy(true);
    setError(null);
    try {
      // No id: the core makes it from the op id, so a retried create makes one product.
      const p = await writes.apply({ type: "create_product", product: { name, status: "draft" } });
      void qc.invalidateQueries({ queryKey: keys.products });
      setName("");
      onCreated(p.id);
    } catch (e) {
      setError(fieldErrors(e).name ?? explain(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog.Root open={open} onOpenChange={(o) => !o && onClose()}>
      <Dialog.Portal>
        <Dialog.Overlay className="overlay" />
        <Dialog.Content className="dialog dialog-small" aria-describedby={undefined}>
          <Dialog.Title className="dialog-title">New product</Dialog.Title>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              void create();
            }}
          >
            <label className="field field-wide">
              <span className="label">Name</span>
              <input className={`input ${error ? "invalid" : ""}`} autoFocus value={name} onChange={(e) => setName(e.target.value)} />
              {error && <div className="field-error">{error}</div>}
            </label>
            <div className="dialog-actions">
              <Dialog.Close className="btn" type="button">
                Cancel
              </Dialog.Close>
              <button className="btn btn-primary" type="submit" disabled={busy || !name.trim()}>
                Create
              </button>
            </div>
          </form>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}
