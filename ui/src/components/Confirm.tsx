import * as AlertDialog from "@radix-ui/react-alert-dialog";

type Props = {
  open: boolean;
  title: string;
  body: string;
  confirm: string;
  cancel?: string;
  danger?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
};

/** A yes/no question that must be answered before going on (unsaved changes, restore). */
export function Confirm({ open, title, body, confirm, cancel = "Cancel", danger, onConfirm, onCancel }: Props) {
  return (
    <AlertDialog.Root open={open} onOpenChange={(o) => !o && onCancel()}>
      <AlertDialog.Portal>
        <AlertDialog.Overlay className="overlay" />
        <AlertDialog.Content className="dialog dialog-small">
          <AlertDialog.Title className="dialog-title">{title}</AlertDialog.Title>
          <AlertDialog.Description className="dialog-text">{body}</AlertDialog.Description>
          <div className="dialog-actions">
            <AlertDialog.Cancel className="btn">{cancel}</AlertDialog.Cancel>
            <AlertDialog.Action className={danger ? "btn btn-danger" : "btn btn-primary"} onClick={onConfirm}>
              {confirm}
            </AlertDialog.Action>
          </div>
        </AlertDialog.Content>
      </AlertDialog.Portal>
    </AlertDialog.Root>
  );
}
