import { Badge, Card, Table, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { api, unwrap } from "../../api/client";
import type { components } from "../../api/schema";
import { ScrollTable } from "../../components/ScrollTable";
import { dateTime } from "../../lib/format";

type Provisioning = components["schemas"]["OrderRowOut"]["provisioning"];
const COLOURS: Record<Provisioning, string> = {
  awaiting_payment: "yellow",
  in_progress: "blue",
  done: "green",
  cancelled: "gray",
  failed: "red",
};

/** "Thông tin cài đặt dịch vụ" (seed 000): the latest orders with their code, content, time
 * and where the ordered service's setup stands. Hidden for an account's staff users (403). */
export function Orders() {
  const { t } = useTranslation();
  const orders = useQuery({
    queryKey: ["orders", "latest"],
    queryFn: () => unwrap(api.GET("/api/v1/orders", { params: { query: { limit: 5 } } })),
    retry: false,
  });
  if (orders.isError || (orders.data && orders.data.items.length === 0)) return null;
  return (
    <Card data-testid="orders">
      <Title order={3} size="h4" mb="sm">
        {t("dashboard.orders")}
      </Title>
      {orders.data && (
        <ScrollTable label={t("dashboard.orders")} minWidth={560}>
          <Table>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t("dashboard.orderCode")}</Table.Th>
                <Table.Th>{t("dashboard.orderContent")}</Table.Th>
                <Table.Th>{t("dashboard.orderTime")}</Table.Th>
                <Table.Th>{t("dashboard.orderSetup")}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {orders.data.items.map((o) => (
                <Table.Tr key={o.invoice_id}>
                  <Table.Td>{o.order_id}</Table.Td>
                  <Table.Td>
                    <Text size="sm">{o.content}</Text>
                  </Table.Td>
                  <Table.Td>{dateTime(o.placed_at)}</Table.Td>
                  <Table.Td>
                    <Badge color={COLOURS[o.provisioning]} variant="light" c="dark.7">
                      {t(`dashboard.setup.${o.provisioning}`)}
                    </Badge>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </ScrollTable>
      )}
    </Card>
  );
}
