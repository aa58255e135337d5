import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { setRefresher } from "../api/client";
import { LANGUAGES, setLanguage } from "../i18n";
import { authApi, type AccessToken, type Profile } from "./api";
import { tokens } from "./tokens";
import { isStaff } from "../staff/access";
import { setTimeZone } from "../lib/format";

type Status = "restoring" | "anonymous" | "signed-in";

interface AuthState {
  status: Status;
  profile: Profile | null;
  /** Platform staff: lands on /staff after signing in. */
  isStaff: boolean;
  /** Called with the access token a sign-in answered (password, 2FA or QR). */
  signedIn: (answer: AccessToken) => Promise<void>;
  signOut: () => Promise<void>;
  /** Reads the profile again (after the user changed it). */
  reloadProfile: () => Promise<void>;
  /** A new access token from the session cookie, then the profile: after something that
   * changes what the token says (the address verified). */
  renewSession: () => Promise<void>;
}

const AuthContext = createContext<AuthState | null>(null);

let refreshing: Promise<boolean> | null = null;
/** One refresh at a time: parallel 401s share it (a refresh token is single-use). */
function refreshOnce(): Promise<boolean> {
  refreshing ??= authApi
    .refresh()
    .then((answer) => {
      tokens.set(answer.access_token);
      return true;
    })
    .catch(() => {
      tokens.set(null);
      return false;
    })
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}
setRefresher(refreshOnce);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [status, setStatus] = useState<Status>("restoring");
  const [profile, setProfile] = useState<Profile | null>(null);
  const queryClient = useQueryClient();

  const loadProfile = useCallback(async () => {
    const me = await authApi.me();
    const language = LANGUAGES.find((l) => l === me.language);
    if (language) setLanguage(language);
    setTimeZone(me.time_zone); // before the profile: every date then renders in the account's zone
    setProfile(me);
    setStatus("signed-in");
  }, []);

  useEffect(() => {
    // A reload forgets the access token: the session cookie brings it back.
    let live = true;
    void refreshOnce().then(async (ok) => {
      if (!live) return;
      if (ok) {
        try {
          await loadProfile();
          return;
        } catch {
          tokens.set(null);
        }
      }
      setStatus("anonymous");
    });
    const unsubscribe = tokens.subscribe((token) => {
      if (token === null) {
        setStatus("anonymous");
        setProfile(null);
      }
    });
    return () => {
      live = false;
      unsubscribe();
    };
  }, [loadProfile]);

  const signedIn = useCallback(
    async (answer: AccessToken) => {
      tokens.set(answer.access_token);
      await loadProfile();
    },
    [loadProfile],
  );

  const signOut = useCallback(async () => {
    try {
      await authApi.logout();
    } finally {
      tokens.set(null);
      queryClient.clear();
    }
  }, [queryClient]);

  const renewSession = useCallback(async () => {
    if (await refreshOnce()) await loadProfile();
  }, [loadProfile]);

  const value = useMemo(
    () => ({
      status,
      profile,
      isStaff: isStaff(profile),
      signedIn,
      signOut,
      reloadProfile: loadProfile,
      renewSession,
    }),
    [status, profile, signedIn, signOut, loadProfile, renewSession],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const value = useContext(AuthContext);
  if (!value) throw new Error("useAuth outside AuthProvider");
  return value;
}
