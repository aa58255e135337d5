import { SegmentedControl } from "@mantine/core";
import { useTranslation } from "react-i18next";
import { setLanguage } from "../i18n";
import { authApi } from "../auth/api";
import { tokens } from "../auth/tokens";

export function LanguageSwitch() {
  const { t, i18n } = useTranslation();
  return (
    <SegmentedControl
      size="xs"
      aria-label={t("language.label")}
      value={i18n.language === "en" ? "en" : "vi"}
      onChange={(value) => {
        setLanguage(value);
        if (tokens.access()) authApi.saveLanguage(value).catch(() => undefined); // kept locally anyway
      }}
      data={[
        { value: "vi", label: <span lang="vi" title={t("language.vi")}>VI</span> },
        { value: "en", label: <span lang="en" title={t("language.en")}>EN</span> },
      ]}
    />
  );
}
