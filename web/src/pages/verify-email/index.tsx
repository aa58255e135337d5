import { useEffect, useRef, useState } from "react";
import { Alert, Anchor, Card, Loader, Stack, Title } from "@mantine/core";
import { Link, useSearchParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { ApiError } from "../../api/client";
import { authApi } from "../../auth/api";
import { useAuth } from "../../auth/AuthProvider";

type State = "checking" | "verified" | "gone" | "failed";

/** The mailed verification link: confirms the address at once, signed in or not. */
export default function VerifyEmail() {
  const { t } = useTranslation("access");
  const [params] = useSearchParams();
  const token = params.get("token") ?? "";
  const { status, renewSession } = useAuth();
  const [state, setState] = useState<State>(token ? "checking" : "gone");
  const sent = useRef(false);

  useEffect(() => {
    if (!token || status === "restoring" || sent.current) return;
    sent.current = true; // once: StrictMode runs effects twice, a token is single-use
    void authApi
      .verifyEmail(token)
      .then(async () => {
        // The access token said "unverified": a new one lets this browser pay at once.
        if (status === "signed-in") await renewSession();
        setState("verified");
      })
      .catch((err: unknown) => {
        const code = err instanceof ApiError ? err.code : "";
        setState(code === "invalid_token" || code.startsWith("verification_") ? "gone" : "failed");
      });
  }, [token, status, renewSession]);

  return (
    <Card>
      <Stack>
        <Title order={2}>{t("verify.title")}</Title>
        {state === "checking" && <Loader role="status" aria-label={t("verify.checking")} />}
        {state === "verified" && (
          <Alert color="teal" role="status">
            {t("verify.done")}
          </Alert>
        )}
        {state === "gone" && (
          <Alert color="red" role="alert">
            {t("verify.linkGone")}
          </Alert>
        )}
        {state === "failed" && (
          <Alert color="red" role="alert">
            {t("failed")}
          </Alert>
        )}
        <Anchor component={Link} to={status === "signed-in" ? "/" : "/login"} size="sm">
          {status === "signed-in" ? t("toDashboard") : t("backToSignIn")}
        </Anchor>
      </Stack>
    </Card>
  );
}
