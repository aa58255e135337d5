import { Anchor, Stack, Title } from "@mantine/core";
import { Link } from "react-router-dom";
import { useTranslation } from "react-i18next";

export default function NotFound() {
  const { t } = useTranslation();
  return (
    <Stack align="flex-start">
      <Title order={2}>{t("notFound.title")}</Title>
      <Anchor component={Link} to="/">
        {t("notFound.back")}
      </Anchor>
    </Stack>
  );
}
