import { Suspense } from "react";
import { AppShell, Burger, Group, NavLink, Text, Title, Button, Loader, Center, VisuallyHidden } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { NavLink as RouterLink, Outlet, useLocation } from "react-router-dom";
import { useTranslation } from "react-i18next";
import {
  IconBuildingStore,
  IconCreditCard,
  IconFileInvoice,
  IconHeadset,
  IconLayoutDashboard,
  IconReceipt2,
  IconTool,
  IconUserCircle,
} from "@tabler/icons-react";
import { LanguageSwitch } from "./LanguageSwitch";
import { useAuth } from "../auth/AuthProvider";
import { VerifyEmailBanner } from "./VerifyEmailBanner";
import { NotificationBell } from "./bell/NotificationBell";

/** The hosting portal's menu (seed 000), in its order. */
export const NAVIGATION = [
  { to: "/", key: "dashboard", icon: IconLayoutDashboard },
  { to: "/top-up", key: "topUp", icon: IconCreditCard },
  { to: "/transactions", key: "transactions", icon: IconReceipt2 },
  { to: "/services", key: "services", icon: IconBuildingStore },
  { to: "/invoices", key: "invoices", icon: IconFileInvoice },
  { to: "/support", key: "support", icon: IconHeadset },
  { to: "/repairs", key: "repairs", icon: IconTool },
  { to: "/account", key: "account", icon: IconUserCircle },
] as const;

export function PageLoader() {
  const { t } = useTranslation();
  return (
    <Center py="xl" aria-live="polite">
      <Loader size="sm" />
      <VisuallyHidden>{t("app.loading")}</VisuallyHidden>
    </Center>
  );
}

export function AppLayout() {
  const { t } = useTranslation();
  const [opened, { toggle, close }] = useDisclosure();
  const { profile, signOut } = useAuth();
  const location = useLocation();

  return (
    <AppShell
      header={{ height: 60 }}
      navbar={{ width: 250, breakpoint: "sm", collapsed: { mobile: !opened } }}
      padding="md"
    >
      <a href="#main" className="skip-link">
        {t("app.skip")}
      </a>
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap" miw={0}>
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label={t("nav.menu")} />
            <Title order={1} size="h4" c="blue.8" className="brand">
              {t("app.name")}
            </Title>
          </Group>
          <Group gap="sm" wrap="nowrap" style={{ flexShrink: 0 }}>
            <NotificationBell stream="/api/v1/dashboard/stream" />
            <LanguageSwitch />
            {profile && (
              <Text size="sm" visibleFrom="md" c="dimmed" truncate maw={220}>
                {profile.name}
              </Text>
            )}
            <Button variant="subtle" size="compact-sm" onClick={() => void signOut()}>
              {t("session.signOut")}
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label={t("nav.main")}>
        {NAVIGATION.map(({ to, key, icon: Icon }) => (
            <NavLink
              key={to}
              component={RouterLink}
              to={to}
              variant="filled"
              end={to === "/"}
              label={t(`nav.${key}`)}
              leftSection={<Icon size={18} stroke={1.6} aria-hidden />}
              active={to === "/" ? location.pathname === "/" : location.pathname.startsWith(to)}
              onClick={close}
            />
          ))}
      </AppShell.Navbar>
      <AppShell.Main id="main" tabIndex={-1}>
        <VerifyEmailBanner />
        <Suspense fallback={<PageLoader />}>
          <Outlet />
        </Suspense>
      </AppShell.Main>
    </AppShell>
  );
}
