import { useEffect, useState } from "react";
import { ActionIcon, CopyButton, Group, Image, Stack, Table, Text, Tooltip } from "@mantine/core";
import { IconCheck, IconCopy } from "@tabler/icons-react";
import QRCode from "qrcode";
import { useTranslation } from "react-i18next";
import { dateTime, money } from "../../../lib/format";
import type { PaymentRequest } from "../api";

function Copy({ value, label }: { value: string; label: string }) {
  const { t } = useTranslation("invoices");
  return (
    <CopyButton value={value}>
      {({ copied, copy }) => (
        <Tooltip label={copied ? t("copied") : t("copy")}>
          <ActionIcon variant="subtle" onClick={copy} aria-label={`${t("copy")} ${label}`}>
            {copied ? <IconCheck size={16} /> : <IconCopy size={16} />}
          </ActionIcon>
        </Tooltip>
      )}
    </CopyButton>
  );
}

/** The bank transfer to make: the VietQR drawn here from the API's payload, and its memo. */
export function TransferQr({ request }: { request: PaymentRequest }) {
  const { t } = useTranslation("invoices");
  const [image, setImage] = useState<string | null>(null);
  const payload = request.payment?.qr_payload;
  useEffect(() => {
    if (!payload) return;
    let live = true;
    void QRCode.toDataURL(payload, { margin: 1, width: 220 }).then((url) => {
      if (live) setImage(url);
    });
    return () => {
      live = false;
    };
  }, [payload]);
  const reference = request.payment?.reference ?? "";
  return (
    <Stack align="center" gap="xs" data-testid="transfer-qr">
      {image && <Image src={image} alt={t("qrAlt")} w={220} h={220} />}
      <Table withRowBorders={false} w="auto">
        <Table.Tbody>
          {request.amount !== null && (
            <Table.Tr>
              <Table.Th>{t("amount")}</Table.Th>
              <Table.Td>
                <Group gap={4} wrap="nowrap">
                  <span className="money">{money(request.amount, request.currency ?? undefined)}</span>
                  <Copy value={String(request.amount)} label={t("amount")} />
                </Group>
              </Table.Td>
            </Table.Tr>
          )}
          <Table.Tr>
            <Table.Th>{t("memo")}</Table.Th>
            <Table.Td>
              <Group gap={4} wrap="nowrap">
                <Text ff="monospace" size="sm">
                  {reference}
                </Text>
                <Copy value={reference} label={t("memo")} />
              </Group>
            </Table.Td>
          </Table.Tr>
          {request.payment?.expires_at && (
            <Table.Tr>
              <Table.Th>{t("expires")}</Table.Th>
              <Table.Td>{dateTime(request.payment.expires_at)}</Table.Td>
            </Table.Tr>
          )}
        </Table.Tbody>
      </Table>
      <Text size="sm" c="gray.7" ta="center">
        {t("transferHelp")}
      </Text>
    </Stack>
  );
}
