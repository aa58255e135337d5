import { useEffect, useState } from "react";
import { Button, Group, Image } from "@mantine/core";
import { IconDownload } from "@tabler/icons-react";
import { useTranslation } from "react-i18next";
import { saveFile } from "../../invoices/download";
import { ticketsApi, type Attachment } from "../api";

/** An image attachment drawn from its bytes (files need the bearer token: no plain <img src>). */
function Thumbnail({ ticketId, file }: { ticketId: string; file: Attachment }) {
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    let url: string | null = null;
    let live = true;
    void ticketsApi.attachment(ticketId, file.file_id).then(({ data }) => {
      if (live && data) {
        url = URL.createObjectURL(data);
        setSrc(url);
      }
    });
    return () => {
      live = false;
      if (url) URL.revokeObjectURL(url);
    };
  }, [ticketId, file.file_id]);
  if (!src) return null;
  return <Image src={src} alt={file.display_name} h={96} w="auto" maw={160} fit="contain" radius="sm" bd="1px solid gray.3" />;
}

/** A message's files, shown and saved under the names they were sent as. */
export function AttachmentList({ ticketId, files }: { ticketId: string; files: Attachment[] }) {
  const { t } = useTranslation("support");
  if (files.length === 0) return null;
  return (
    <Group gap="sm" mt="xs" align="flex-end">
      {files.map((file) => (
        <Group key={file.file_id} gap={6} align="flex-end" wrap="nowrap">
          {file.content_type.startsWith("image/") && <Thumbnail ticketId={ticketId} file={file} />}
          <Button
            variant="light"
            size="compact-sm"
            leftSection={<IconDownload size={14} />}
            aria-label={t("download", { name: file.display_name })}
            onClick={() => void saveFile(ticketsApi.attachment(ticketId, file.file_id), file.display_name)}
            maw={260}
            styles={{ label: { overflow: "hidden", textOverflow: "ellipsis" } }}
          >
            {file.display_name}
          </Button>
        </Group>
      ))}
    </Group>
  );
}
