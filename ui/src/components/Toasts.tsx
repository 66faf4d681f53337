import * as Toast from "@radix-ui/react-toast";
import { createContext, useCallback, useContext, useState, type ReactNode } from "react";

export type ToastKind = "success" | "info" | "error";
type Item = { id: number; kind: ToastKind; title: string; body?: string };
type Push = (kind: ToastKind, title: string, body?: string) => void;

const Ctx = createContext<Push>(() => {});

/** Toasts for outcomes the person did not wait for (saved, merged, background failures). */
export function ToastProvider({ children }: { children: ReactNode }) {
  const [items, setItems] = useState<Item[]>([]);
  const push = useCallback<Push>((kind, title, body) => {
    setItems((xs) => [...xs.slice(-3), { id: Date.now() + Math.random(), kind, title, body }]);
  }, []);
  return (
    <Ctx.Provider value={push}>
      <Toast.Provider swipeDirection="right" duration={5000}>
        {children}
        {items.map((t) => (
          <Toast.Root
            key={t.id}
            className={`toast toast-${t.kind}`}
            data-testid={`toast-${t.kind}`}
            onOpenChange={(open) => !open && setItems((xs) => xs.filter((x) => x.id !== t.id))}
          >
            <Toast.Title className="toast-title">{t.title}</Toast.Title>
            {t.body && <Toast.Description className="toast-body">{t.body}</Toast.Description>}
            <Toast.Close className="toast-close" aria-label="Dismiss">
              ×
            </Toast.Close>
          </Toast.Root>
        ))}
        <Toast.Viewport className="toast-viewport" />
      </Toast.Provider>
    </Ctx.Provider>
  );
}

export function useToast(): Push {
  return useContext(Ctx);
}
