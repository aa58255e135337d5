import { Anchor, Center, Stack, Text, Title } from "@mantine/core";
import { Link } from "react-router-dom";
import { useTranslation } from "react-i18next";

/** What a signed-in customer sees at a staff address (the API refuses them anyway). */
export default function NotAllowed() {
  const { t } = useTranslation("staff");
  return (
    <Center mih="60vh" p="md">
      <Stack align="center" maw={480} component="main" id="main">
        <Title order={2}>{t("notAllowed.title")}</Title>
        <Text ta="center">{t("notAllowed.text")}</Text>
        <Anchor component={Link} to="/">
          {t("notAllowed.back")}
        </Anchor>
      </Stack>
    </Center>
  );
}
