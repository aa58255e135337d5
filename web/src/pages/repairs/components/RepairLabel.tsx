import { useEffect, useState } from "react";
import { Button, Card, Group, Image, Skeleton, Text, Title } from "@mantine/core";
import { IconDownload, IconPrinter } from "@tabler/icons-react";
import { useTranslation } from "react-i18next";
import { openPrintable, saveFile } from "../../invoices/download";
import { repairsApi, type Repair } from "../api";

/**
 * The repair's QR label as the repairs service draws it (QR of the repair number, model and
 * serial): shown, printed or saved. It needs the bearer token, so it is fetched, not linked.
 */
export function RepairLabel({ repair }: { repair: Repair }) {
  const { t } = useTranslation("repairs");
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    let url: string | null = null;
    let live = true;
    void repairsApi.label(repair.id).then(({ data }) => {
      if (live && data) {
        url = URL.createObjectURL(new Blob([data], { type: "image/svg+xml" }));
        setSrc(url);
      }
    });
    return () => {
      live = false;
      if (url) URL.revokeObjectURL(url);
    };
  }, [repair.id]);
  const alt = t("labelAlt", { number: repair.repair_number });
  return (
    <Card>
      <Title order={3} size="h5" mb={4}>
        {t("label")}
      </Title>
      <Text size="sm" c="gray.7" mb="sm">
        {t("labelHelp")}
      </Text>
      {src ? (
        <Image src={src} alt={alt} maw={400} w="100%" fit="contain" data-testid="repair-label" bg="white" />
      ) : (
        <Skeleton h={220} maw={400} />
      )}
      <Group mt="sm" gap="xs">
        <Button variant="default" size="compact-sm" leftSection={<IconPrinter size={14} />} onClick={() => void openPrintable(repairsApi.label(repair.id))}>
          {t("printLabel")}
        </Button>
        <Button
          variant="default"
          size="compact-sm"
          leftSection={<IconDownload size={14} />}
          onClick={() => void saveFile(repairsApi.label(repair.id), `${repair.repair_number}.svg`)}
        >
          {t("downloadLabel")}
        </Button>
      </Group>
    </Card>
  );
}
