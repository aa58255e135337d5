import { Tabs, Title } from "@mantine/core";
import { useSearchParams } from "react-router-dom";
import { useTranslation } from "react-i18next";
import { ClaimList } from "./components/ClaimList";
import { InvoiceList } from "./components/InvoiceList";

const TABS = ["proforma", "paid", "cancelled", "review", "rejected"] as const;
type Tab = (typeof TABS)[number];

/** Invoices (seed 004 "mali": invoices, proforma, documents under review, rejected payments). */
export default function Invoices() {
  const { t } = useTranslation("invoices");
  const [params, setParams] = useSearchParams();
  const asked = params.get("tab");
  const tab: Tab = TABS.includes(asked as Tab) ? (asked as Tab) : "proforma";
  return (
    <>
      <Title order={2} mb="md">
        {t("title")}
      </Title>
      <Tabs value={tab} onChange={(v) => { setParams(v && v !== "proforma" ? { tab: v } : {}, { replace: true }); }} keepMounted={false}>
        <Tabs.List mb="md">
          {TABS.map((name) => (
            <Tabs.Tab key={name} value={name}>
              {t(`tabs.${name}`)}
            </Tabs.Tab>
          ))}
        </Tabs.List>
        <Tabs.Panel value="proforma">
          <InvoiceList statuses={["unpaid", "partially_paid"]} proforma />
        </Tabs.Panel>
        <Tabs.Panel value="paid">
          <InvoiceList statuses={["paid"]} proforma={false} />
        </Tabs.Panel>
        <Tabs.Panel value="cancelled">
          <InvoiceList statuses={["cancelled"]} proforma />
        </Tabs.Panel>
        <Tabs.Panel value="review">
          <ClaimList status="under_review" />
        </Tabs.Panel>
        <Tabs.Panel value="rejected">
          <ClaimList status="rejected" />
        </Tabs.Panel>
      </Tabs>
    </>
  );
}
