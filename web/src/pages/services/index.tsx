import { Tabs, Title } from "@mantine/core";
import { useSearchParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { Catalogue } from "./components/Catalogue";
import { History } from "./components/History";
import { MyServices } from "./components/MyServices";

const TABS = ["catalogue", "mine", "history"] as const;
type Tab = (typeof TABS)[number];

/** Plans and services (seed 000 "Đăng ký dịch vụ", seed 002 "Tài khoản & gói dịch vụ"). */
export default function Services() {
  const { t } = useTranslation("services");
  const [params, setParams] = useSearchParams();
  const asked = params.get("tab");
  const tab: Tab = TABS.includes(asked as Tab) ? (asked as Tab) : "catalogue";
  return (
    <>
      <Title order={2} mb="md">
        {t("title")}
      </Title>
      <Tabs value={tab} onChange={(v) => { setParams(v && v !== "catalogue" ? { tab: v } : {}, { replace: true }); }} keepMounted={false}>
        <Tabs.List mb="md">
          {TABS.map((name) => (
            <Tabs.Tab key={name} value={name}>
              {t(`tabs.${name}`)}
            </Tabs.Tab>
          ))}
        </Tabs.List>
        <Tabs.Panel value="catalogue">
          <Catalogue />
        </Tabs.Panel>
        <Tabs.Panel value="mine">
          <MyServices />
        </Tabs.Panel>
        <Tabs.Panel value="history">
          <History />
        </Tabs.Panel>
      </Tabs>
    </>
  );
}
