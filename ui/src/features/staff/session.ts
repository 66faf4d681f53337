// Signing in, out and locking: each answers with the new state, which becomes the session query's
// data at once (the app follows it: who is shown, what is allowed, whether the lock is up).
import { useMemo } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { commands, type SignInState } from "../../bindings";
import { call } from "../../lib/api";
import { keys } from "../../lib/queries";

export function useSignInActions() {
  const qc = useQueryClient();
  return useMemo(() => {
    const settle = (s: SignInState) => {
      qc.setQueryData(keys.session, s);
      // A sign-in clears a profile's wrong PINs; a refused one may have locked it.
      void qc.invalidateQueries({ queryKey: keys.staff });
      return s;
    };
    return {
      signIn: async (name: string, pin: string) => settle(await call(commands.signIn(name, pin))),
      signOut: async () => settle(await call(commands.signOut())),
      lock: async () => settle(await call(commands.lock())),
    };
  }, [qc]);
}
