import { Card, Text, Title } from "@mantine/core";
import { useTranslation } from "react-i18next";

/** Screens of a later round (plans, invoices, support, repairs, account) land here first. */
export default function ComingSoon({ titleKey }: { titleKey: string }) {
  const { t } = useTranslation();
  return (
    <>
      <Title order={2} mb="md">
        {t(titleKey)}
      </Title>
      <Card>
        <Text fw={600}>{t("soon.title")}</Text>
        <Text c="dimmed">{t("soon.body")}</Text>
      </Card>
    </>
  );
}
