import { Suspense } from "react";
import { AppShell, Badge, Burger, Button, Group, NavLink, Text, Title } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { NavLink as RouterLink, Outlet, useLocation } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { IconAddressBook, IconCash, IconHeadset, IconHeartHandshake, IconLayoutDashboard, IconTool } from "@tabler/icons-react";
import { LanguageSwitch } from "../layout/LanguageSwitch";
import { NotificationBell } from "../layout/bell/NotificationBell";
import { PageLoader } from "../layout/AppLayout";
import { useAuth } from "../auth/AuthProvider";

/** The staff side's own menu: one entry per back-office area. */
export const STAFF_NAVIGATION: readonly { to: string; key: string; icon: typeof IconLayoutDashboard }[] = [
  { to: "/staff", key: "dashboard", icon: IconLayoutDashboard },
  { to: "/staff/tickets", key: "tickets", icon: IconHeadset },
  { to: "/staff/repairs", key: "repairs", icon: IconTool },
  { to: "/staff/billing", key: "billing", icon: IconCash },
  { to: "/staff/crm", key: "crm", icon: IconAddressBook },
  { to: "/staff/care", key: "care", icon: IconHeartHandshake },
];

export function StaffLayout() {
  const { t } = useTranslation("staff");
  const [opened, { toggle, close }] = useDisclosure();
  const { profile, signOut } = useAuth();
  const location = useLocation();

  return (
    <AppShell header={{ height: 60 }} navbar={{ width: 240, breakpoint: "sm", collapsed: { mobile: !opened } }} padding="md">
      <a href="#main" className="skip-link">
        {t("translation:app.skip")}
      </a>
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="sm" wrap="nowrap" miw={0}>
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label={t("translation:nav.menu")} />
            <Title order={1} size="h4" c="blue.8" className="brand">
              {t("app")}
            </Title>
            <Badge color="grape.8" variant="filled" visibleFrom="xs">
              {t("badge")}
            </Badge>
          </Group>
          <Group gap="sm" wrap="nowrap" style={{ flexShrink: 0 }}>
            <NotificationBell stream="/api/v1/staff/dashboard/stream" />
            <LanguageSwitch />
            {profile && (
              <Text size="sm" visibleFrom="md" c="gray.7" truncate maw={220}>
                {profile.name}
              </Text>
            )}
            <Button variant="subtle" size="compact-sm" onClick={() => void signOut()}>
              {t("translation:session.signOut")}
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs" aria-label={t("nav.label")}>
        {STAFF_NAVIGATION.map(({ to, key, icon: Icon }) => (
          <NavLink
            key={to}
            component={RouterLink}
            to={to}
            variant="filled"
            end={to === "/staff"}
            label={t(`nav.${key}`)}
            leftSection={<Icon size={18} stroke={1.6} aria-hidden />}
            active={to === "/staff" ? location.pathname === "/staff" : location.pathname.startsWith(to)}
            onClick={close}
          />
        ))}
      </AppShell.Navbar>
      <AppShell.Main id="main" tabIndex={-1}>
        <Suspense fallback={<PageLoader />}>
          <Outlet />
        </Suspense>
      </AppShell.Main>
    </AppShell>
  );
}
