import { Tabs, Title } from "@mantine/core";
import { useSearchParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { useAuth } from "../../auth/AuthProvider";
import { ProfileTab } from "./ProfileTab";
import { UsersTab } from "./UsersTab";
import { SecurityTab } from "./SecurityTab";
import { LoyaltyTab } from "./LoyaltyTab";
import { TimelineTab } from "./TimelineTab";

const TABS = ["profile", "users", "security", "loyalty", "timeline"] as const;
type Tab = (typeof TABS)[number];
/** Who may manage the account's users (identity refuses the others anyway). */
const MANAGERS = new Set(["owner", "admin"]);

/** My account: profile, users and roles, security, loyalty and the account's timeline. */
export default function Account() {
  const { t } = useTranslation("account");
  const { profile } = useAuth();
  const [params, setParams] = useSearchParams();
  const tabs = TABS.filter((name) => name !== "users" || MANAGERS.has(profile?.role ?? ""));
  const asked = params.get("tab");
  const tab: Tab = tabs.includes(asked as Tab) ? (asked as Tab) : "profile";
  return (
    <>
      <Title order={2} mb="md">
        {t("title")}
      </Title>
      <Tabs
        value={tab}
        onChange={(v) => { setParams(v && v !== "profile" ? { tab: v } : {}, { replace: true }); }}
        keepMounted={false}
      >
        <Tabs.List mb="md">
          {tabs.map((name) => (
            <Tabs.Tab key={name} value={name}>
              {t(`tabs.${name}`)}
            </Tabs.Tab>
          ))}
        </Tabs.List>
        <Tabs.Panel value="profile">
          <ProfileTab />
        </Tabs.Panel>
        <Tabs.Panel value="users">
          <UsersTab />
        </Tabs.Panel>
        <Tabs.Panel value="security">
          <SecurityTab />
        </Tabs.Panel>
        <Tabs.Panel value="loyalty">
          <LoyaltyTab />
        </Tabs.Panel>
        <Tabs.Panel value="timeline">
          <TimelineTab />
        </Tabs.Panel>
      </Tabs>
    </>
  );
}
