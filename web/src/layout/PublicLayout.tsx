import { Suspense } from "react";
import { Box, Container, Group, Title } from "@mantine/core";
import { Outlet } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { LanguageSwitch } from "./LanguageSwitch";
import { PageLoader } from "./AppLayout";

/** Sign-in, register and QR pages: no navigation, the language switch on top. */
export function PublicLayout() {
  const { t } = useTranslation();
  return (
    <Box mih="100vh" bg="gray.0">
      <Container size="xs" py="md">
        <Group justify="space-between" mb="lg">
          <Title order={1} size="h4" c="blue.8">
            {t("app.name")}
          </Title>
          <LanguageSwitch />
        </Group>
        <main id="main">
          <Suspense fallback={<PageLoader />}>
            <Outlet />
          </Suspense>
        </main>
      </Container>
    </Box>
  );
}
